// "Since my last visit" for a watchlist page, kept in this browser only (localStorage):
// the link asks for the articles since the previous visit, entries fetched after it are
// marked "unseen", and this visit's time (the server's, in UTC) becomes the next marker.
(function () {
  "use strict";
  var root = document.getElementById("watch");
  if (!root) { return; }
  var key = "mediawatch:last-visit:" + root.dataset.watchlist;
  var last = null;
  try { last = window.localStorage.getItem(key); } catch (e) { return; }
  if (last && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(last)) {
    var link = document.getElementById("last-visit");
    link.href = "?since=" + encodeURIComponent(last);
    link.textContent = "since my last visit (" + last.replace("T", " ").replace("Z", " UTC") + ")";
    link.hidden = false;
    document.querySelectorAll("li.hit[data-fetched]").forEach(function (li) {
      if (li.dataset.fetched >= last) { li.classList.add("unseen"); }
    });
  }
  try { window.localStorage.setItem(key, root.dataset.now); } catch (e) { /* private mode */ }
})();
