// The public verification page's camera: reads the QR code of a printed copy with the PC's camera
// and opens the verification it links to. The decoder (jsQR) is loaded only when the camera is used,
// so that the page itself stays light. Without a camera or a script, the code and token fields and
// the upload do the same.
"use strict";
(function () {
  var button = document.getElementById("camera-start");
  if (!button || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;
  var panel = document.getElementById("camera");
  var video = document.getElementById("camera-video");
  var status = document.getElementById("camera-status");
  var stopButton = document.getElementById("camera-stop");
  var lang = document.documentElement.lang === "en" ? "en" : "vi";
  var words = {
    vi: { looking: "Đưa mã QR trên bản sao vào trước camera…", none: "Không mở được camera: ", other: "Mã QR này không phải mã xác thực của bản sao điện tử." },
    en: { looking: "Hold the copy's QR code in front of the camera…", none: "The camera cannot be opened: ", other: "This QR code is not the verification code of an electronic copy." }
  }[lang];
  var stream = null;
  panel.hidden = false;

  function stop() {
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
    video.hidden = true;
    stopButton.hidden = true;
    button.hidden = false;
  }

  // The copy's QR code holds a few lines of text; its last line is the verification link.
  function verificationQuery(text) {
    var match = /\/verify\?([^\s]*code=[^\s]+)/.exec(text);
    if (!match) return null;
    var params = new URLSearchParams(match[1]);
    if (!params.get("code") || !params.get("t")) return null;
    return "code=" + encodeURIComponent(params.get("code")) + "&t=" + encodeURIComponent(params.get("t"));
  }

  function scan(canvas, context) {
    if (!stream) return;
    if (video.readyState === video.HAVE_ENOUGH_DATA) {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      var image = context.getImageData(0, 0, canvas.width, canvas.height);
      var found = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
      if (found) {
        var query = verificationQuery(found.data);
        if (query) {
          stop();
          window.location.assign("/verify?" + query + "&lang=" + lang);
          return;
        }
        status.textContent = words.other;
      }
    }
    window.requestAnimationFrame(function () { scan(canvas, context); });
  }

  function start() {
    status.textContent = words.looking;
    var ready = window.jsQR ? Promise.resolve() : new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = button.getAttribute("data-decoder");
      script.onload = resolve;
      script.onerror = function () { reject(new Error("jsQR")); };
      document.head.appendChild(script);
    });
    ready
      .then(function () { return navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }); })
      .then(function (s) {
        stream = s;
        video.srcObject = s;
        video.hidden = false;
        stopButton.hidden = false;
        button.hidden = true;
        return video.play();
      })
      .then(function () {
        var canvas = document.createElement("canvas");
        scan(canvas, canvas.getContext("2d", { willReadFrequently: true }));
      })
      .catch(function (e) {
        stop();
        status.textContent = words.none + e.message;
      });
  }

  button.addEventListener("click", start);
  stopButton.addEventListener("click", stop);
})();
