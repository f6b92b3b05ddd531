// notekeeper admin: the meeting page's player. A transcript timestamp
// seeks the recording to that moment and plays; a search hit's line
// (#line-N) is scrolled to and the player set to its time. No framework.
"use strict";
(function () {
  var media = document.querySelector(".player video, .player audio");
  if (!media) { return; }
  function seek(line, play) {
    var t = parseInt(line.getAttribute("data-t"), 10);
    if (isNaN(t) || t < 0) { return; }
    media.currentTime = t;
    if (play) { media.play(); }
  }
  document.addEventListener("click", function (ev) {
    var a = ev.target.closest("a.ts");
    if (!a) { return; }
    ev.preventDefault();
    seek(a.closest(".line"), true);
    history.replaceState(null, "", a.getAttribute("href"));
  });
  var hit = document.querySelector(".line.hit");
  if (hit) {
    hit.scrollIntoView({ block: "center" });
    media.addEventListener("loadedmetadata", function () { seek(hit, false); }, { once: true });
  }
})();
