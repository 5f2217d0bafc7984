import assert from "node:assert/strict";
import { AUDIO_FORMATS, codecOf, CODECS } from "./codecs.ts";
import { AUDIO_EXTENSIONS, AUDIO_FILE_TYPES, audioMime } from "./formats.ts";

Deno.test("codecs: every format has exactly one codec, and every codec's formats are known", () => {
  for (const f of AUDIO_FORMATS) {
    assert.equal(CODECS.filter((c) => c.formats.includes(f)).length, 1, f);
    assert.ok(codecOf(f).formats.includes(f));
  }
  for (const c of CODECS) for (const f of c.formats) assert.ok(AUDIO_FORMATS.includes(f), `${c.name}: ${f}`);
});

Deno.test("codecs: the extensions and MIME types come from the codecs' table, each extension once", () => {
  assert.deepEqual(AUDIO_FILE_TYPES, CODECS.flatMap((c) => c.files));
  assert.equal(new Set(AUDIO_EXTENSIONS).size, AUDIO_EXTENSIONS.length);
  // what the explorer serves: no audio file as application/octet-stream (issue 32: .m4a, .aac, .wave were)
  for (const ext of [".mp3", ".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".aac"]) {
    assert.match(audioMime(`/music/x${ext.toUpperCase()}`), /^audio\//, ext);
  }
  assert.equal(audioMime("cover.jpg"), "application/octet-stream");
});
