"""The evidence commands: ``mediawatch keygen`` and ``mediawatch verify``.

Kept out of :mod:`scheduler.cli` (which stays under 500 lines) and added to its group by
:func:`register`. Like every command, a few lines over library calls
(:mod:`archive.evidence`); errors become one line and an exit code at this edge.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey

    from archive.config.sources import Config
    from scheduler.cli import Context

__all__ = ["export_key", "keygen", "register", "stamp_pending_files", "tsa_roots", "verify"]


def export_key(ctx: Context) -> EllipticCurvePrivateKey:
    """The key ``export --sign`` signs with: ``[evidence] signing_key``, which must be set."""
    from archive.evidence.errors import SigningError
    from archive.evidence.signing import load_signing_key

    key = ctx.config().evidence.signing_key if Path(ctx.config_path).exists() else None
    if key is None:
        raise SigningError(f"--sign needs [evidence] signing_key in {ctx.config_path}"
                           " (make a key with `mediawatch keygen PATH`)")
    return load_signing_key(key)


def stamp_pending_files(ctx: Context, config: Config | None) -> None:
    """With ``[evidence] tsa_url``: ask for the tokens that closed WARC files still lack
    (the TSA was down when they closed); one line saying what was done."""
    if config is None or not config.evidence.tsa_url:
        return
    from archive.evidence.timestamps import stamp_pending, unstamped

    report = stamp_pending(ctx.warc_dir, config.evidence.tsa_url)
    if report.stamped or report.errors:
        left = len(unstamped(ctx.warc_dir))
        click.echo(f"timestamped {len(report.stamped)} WARC file(s)"
                   + (f"; {left} still without a token" if left else ""))
    for line in report.errors[:10]:
        click.echo(f"warning: {line}", err=True)


def tsa_roots(ctx: Context, tsa_ca: Path | None) -> list[x509.Certificate]:
    """The trusted TSA certificates: ``--tsa-ca``, else ``[evidence] tsa_ca``, else none."""
    from archive.evidence.timestamps import load_certificates

    if tsa_ca is None and Path(ctx.config_path).exists():
        tsa_ca = ctx.config().evidence.tsa_ca
    if tsa_ca is None:
        return []
    try:
        return load_certificates(tsa_ca)
    except (OSError, ValueError) as exc:
        raise click.UsageError(f"{tsa_ca}: not a readable PEM certificate file ({exc})"
                               ) from None


@click.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def keygen(path: Path) -> None:
    """Make a signing key (ECDSA P-384, PEM, readable by you only) at PATH for
    `export --format wacz --sign`; never overwrites a file."""
    from archive.evidence.signing import key_fingerprint, make_signing_key

    public = make_signing_key(path)
    click.echo(f"wrote {path}: public key {key_fingerprint(public)}")
    click.echo("set [evidence] signing_key to this path; publish the fingerprint so that "
               "others can tell your exports from anyone else's", err=True)


@click.command()
@click.argument("paths", nargs=-1, required=True,
                type=click.Path(dir_okay=False, path_type=Path))
@click.option("--tsa-ca", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="PEM file of the TSA's CA certificate(s) to check timestamp tokens "
                   "against [default: [evidence] tsa_ca].")
@click.pass_obj
def verify(ctx: Context, paths: tuple[Path, ...], tsa_ca: Path | None) -> None:
    """Check WARC and WACZ files: record digests, WACZ hashes and signature, timestamp
    tokens. One line per file; exit 0 only when every file is valid."""
    from archive.evidence.verify import verify_file

    roots = tsa_roots(ctx, tsa_ca)
    failed = 0
    for path in paths:
        verdict = verify_file(path, roots)
        failed += not verdict.ok
        click.echo(verdict.line())
    if failed:
        sys.exit(1)


def register(group: click.Group) -> None:
    """Add the evidence commands to the ``mediawatch`` group."""
    group.add_command(keygen)
    group.add_command(verify)
