/* Prompts: text-to-speech preview and recording a prompt in the browser.
 * The recording is made as 16 kHz mono 16-bit WAV here, so the box can play
 * it as it is, and uploaded like a chosen file. */
(function () {
  "use strict";
  var cbx = window.cbx;

  var preview = document.getElementById("tts-preview");
  if (preview) {
    preview.addEventListener("submit", function (event) {
      event.preventDefault();
      var status = document.getElementById("tts-status");
      status.textContent = "…";
      var body = new URLSearchParams();
      body.append("text", preview.elements.text.value);
      body.append("language", preview.elements.language.value);
      fetch(preview.getAttribute("data-url"), {
        method: "POST", credentials: "same-origin", body: body,
        headers: { "X-CSRF-Token": cbx.csrf(), "X-Requested-With": "fetch" }
      }).then(function (response) {
        if ((response.headers.get("Content-Type") || "").indexOf("audio/") === 0) {
          return response.blob().then(function (blob) {
            var audio = document.getElementById("tts-audio");
            audio.src = URL.createObjectURL(blob);
            audio.hidden = false;
            audio.play();
            status.textContent = "";
          });
        }
        return response.json().then(function (data) { status.textContent = data.message || cbx.t("failed"); });
      }).catch(function (err) { status.textContent = String(err.message || err); });
    });
  }

  var form = document.getElementById("prompt-upload");
  var start = document.getElementById("rec-start");
  var stop = document.getElementById("rec-stop");
  if (!form || !start || !navigator.mediaDevices) { if (start) { start.hidden = true; } return; }
  var status = document.getElementById("rec-status");
  var context = null, source = null, processor = null, stream = null, chunks = [];
  var RATE = 16000;

  function wav(samples) {
    var buffer = new ArrayBuffer(44 + samples.length * 2);
    var view = new DataView(buffer);
    function text(offset, s) { for (var i = 0; i < s.length; i++) { view.setUint8(offset + i, s.charCodeAt(i)); } }
    text(0, "RIFF"); view.setUint32(4, 36 + samples.length * 2, true); text(8, "WAVE");
    text(12, "fmt "); view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 1, true);
    view.setUint32(24, RATE, true); view.setUint32(28, RATE * 2, true); view.setUint16(32, 2, true); view.setUint16(34, 16, true);
    text(36, "data"); view.setUint32(40, samples.length * 2, true);
    for (var i = 0; i < samples.length; i++) {
      var s = Math.max(-1, Math.min(1, samples[i]));
      view.setInt16(44 + i * 2, s < 0 ? s * 0x8000 : s * 0x7fff, true);
    }
    return new Blob([view], { type: "audio/wav" });
  }

  start.addEventListener("click", function () {
    if (!form.elements.name.value) { form.elements.name.reportValidity(); return; }
    navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1 } }).then(function (s) {
      stream = s;
      context = new AudioContext({ sampleRate: RATE });
      source = context.createMediaStreamSource(stream);
      processor = context.createScriptProcessor(4096, 1, 1);
      chunks = [];
      processor.onaudioprocess = function (e) { chunks.push(new Float32Array(e.inputBuffer.getChannelData(0))); };
      source.connect(processor);
      processor.connect(context.destination);
      start.hidden = true; stop.hidden = false;
      status.textContent = cbx.t("recording");
    }).catch(function () { status.textContent = cbx.t("mic_denied"); });
  });

  stop.addEventListener("click", function () {
    processor.disconnect(); source.disconnect();
    stream.getTracks().forEach(function (t) { t.stop(); });
    context.close();
    var length = chunks.reduce(function (n, c) { return n + c.length; }, 0);
    var samples = new Float32Array(length);
    var offset = 0;
    chunks.forEach(function (c) { samples.set(c, offset); offset += c.length; });
    var data = new FormData();
    data.append("name", form.elements.name.value);
    data.append("language", form.elements.language.value);
    data.append("file", wav(samples), form.elements.name.value + ".wav");
    fetch(form.getAttribute("action"), {
      method: "POST", credentials: "same-origin", body: data,
      headers: { "X-CSRF-Token": cbx.csrf(), "X-Requested-With": "fetch" }
    }).then(function (r) { return r.json(); }).then(function (reply) {
      if (reply.ok) { window.location.reload(); } else { status.textContent = reply.message; }
    });
    start.hidden = false; stop.hidden = true;
  });
})();
