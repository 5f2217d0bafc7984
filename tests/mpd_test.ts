/**
 * Playlists in a real MPD (Debian's `mpd`, driven with `mpc` as a listener would): the test starts its own
 * on a free loopback port, with a generated music folder, a null audio output and its state in a temporary
 * folder, and stops it however the test ends. A radio queued after the song MPD plays; following MPD as
 * songs change; an M3U8 read back by MPD itself; and every way MPD can fail as one line.
 */
import { join } from "node:path";
import { assert, denoTask } from "./helpers.ts";
import { embedCollection } from "../lib/pipeline/collection.ts";
import { embeddedSongFolder } from "./song_folder.ts";

const root = await Deno.makeTempDir({ prefix: "openl3-mpd-" });
const { weights, models, music, db } = await embeddedSongFolder(root, 8);

/** A port nobody listens on now. */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** A running mpd, and how to talk to it with mpc. */
interface Mpd {
  port: number;
  mpc(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

async function startMpd(name: string, password?: string): Promise<Mpd> {
  const dir = join(root, name);
  await Deno.mkdir(join(dir, "playlists"), { recursive: true });
  const port = freePort();
  await Deno.writeTextFile(
    join(dir, "mpd.conf"),
    [
      `music_directory "${music}"`,
      `playlist_directory "${join(dir, "playlists")}"`,
      `db_file "${join(dir, "db")}"`,
      `state_file "${join(dir, "state")}"`,
      `pid_file "${join(dir, "pid")}"`,
      `bind_to_address "127.0.0.1"`,
      `port "${port}"`,
      `zeroconf_enabled "no"`,
      ...(password ? [`password "${password}@read,add,control,admin"`, `default_permissions ""`] : []),
      `audio_output {`,
      `  type "null"`,
      `  name "null"`,
      `}`,
    ].join("\n"),
  );
  const child = new Deno.Command("mpd", {
    args: ["--no-daemon", join(dir, "mpd.conf")],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const mpc = async (...args: string[]) => {
    const out = await new Deno.Command("mpc", {
      args: ["-h", password ? `${password}@127.0.0.1` : "127.0.0.1", "-p", String(port), ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) throw new Error(`mpc ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
    return new TextDecoder().decode(out.stdout);
  };
  for (const deadline = Date.now() + 30_000;;) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  await mpc("update", "--wait");
  return {
    port,
    mpc,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await child.status;
    },
  };
}

const queue = async (mpd: Mpd) =>
  (await mpd.mpc("playlist", "-f", "%file%")).trim().split("\n").filter(Boolean);
const common = ["--db", db, "--models-dir", models];

Deno.test("playlist --mpd: a radio queued after the song MPD plays (MPD's paths under --mpd-root)", async () => {
  const mpd = await startMpd("queue");
  try {
    await mpd.mpc("add", "Alpha/a1.flac");
    await mpd.mpc("play");
    await mpd.mpc("pause");
    const r = await denoTask([
      "playlist",
      "--mpd",
      `127.0.0.1:${mpd.port}`,
      "--mpd-root",
      music,
      "-n",
      "5",
      ...common,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`queued 4 songs in MPD at 127\\.0\\.0\\.1:${mpd.port}`));
    const q = await queue(mpd);
    assert.equal(q.length, 5);
    assert.equal(q[0], "Alpha/a1.flac");
    assert.equal(new Set(q).size, 5, "no song twice");
    assert.ok(!(q.includes("Beta/b1.mp3") && q.includes("Beta/b1 (radio copy).mp3")), "not both copies");
  } finally {
    await mpd.stop();
  }
});

Deno.test("playlist --mpd --follow: keeps --ahead songs queued after the one playing as the listener skips", async () => {
  const mpd = await startMpd("follow");
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "task",
      "--quiet",
      "playlist",
      "--mpd",
      `127.0.0.1:${mpd.port}`,
      "--mpd-root",
      music,
      "--follow",
      "--ahead",
      "2",
      "-n",
      "2",
      ...common,
    ],
    cwd: new URL("..", import.meta.url).pathname,
    stdout: "null",
    stderr: "piped",
  });
  let proc: Deno.ChildProcess | undefined;
  try {
    await mpd.mpc("add", "Beta/b2.mp3");
    await mpd.mpc("play");
    await mpd.mpc("pause");
    proc = child.spawn();
    const waitFor = async (what: string, ok: (q: string[], pos: number) => boolean) => {
      for (const deadline = Date.now() + 120_000;;) {
        const q = await queue(mpd);
        const pos = Number(/#(\d+)\//.exec(await mpd.mpc("status"))?.[1] ?? 0) - 1;
        if (ok(q, pos)) return q;
        if (Date.now() > deadline) throw new Error(`${what}: queue ${JSON.stringify(q)} at ${pos}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await waitFor("two songs ahead of the first", (q, pos) => q.length - pos - 1 >= 2);
    for (let skip = 0; skip < 3; skip++) {
      await mpd.mpc("next");
      await mpd.mpc("pause");
      await waitFor(
        `two songs ahead after skip ${skip + 1}`,
        (q, pos) => pos === skip + 1 && q.length - pos - 1 >= 2,
      );
    }
    const q = await queue(mpd);
    assert.equal(new Set(q).size, q.length, "no song twice");
    proc.kill("SIGINT");
    const status = await proc.status;
    const err = new TextDecoder().decode((await proc.stderr.getReader().read()).value ?? new Uint8Array());
    assert.equal(status.code, 0, err);
    proc = undefined;
  } finally {
    if (proc) {
      proc.kill("SIGKILL");
      await proc.status;
      await proc.stderr.cancel().catch(() => {});
    }
    await mpd.stop();
  }
});

Deno.test("an M3U8 written by playlist is read back by MPD itself (load), songs in order", async () => {
  const mpd = await startMpd("load");
  try {
    await Deno.mkdir(join(music, "lists"), { recursive: true });
    const out = join(music, "lists", "radio.m3u8");
    const r = await denoTask([
      "playlist",
      join(music, "Delta/d1.flac"),
      "-n",
      "4",
      "-o",
      out,
      "--json",
      ...common,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const paths = JSON.parse(r.stdout).songs.map((s: { path: string }) => s.path.slice(music.length + 1));
    await mpd.mpc("update", "--wait");
    await mpd.mpc("load", "lists/radio.m3u8");
    assert.deepEqual(await queue(mpd), paths);
  } finally {
    await Deno.remove(join(music, "lists"), { recursive: true }).catch(() => {});
    await mpd.stop();
  }
});

Deno.test("MPD failures are one line: unreachable, a wrong password, a peer that is not MPD, a song not stored", async () => {
  const closed = freePort();
  const unreachable = await denoTask([
    "playlist",
    "--mpd",
    `127.0.0.1:${closed}`,
    "--mpd-root",
    music,
    ...common,
  ]);
  assert.equal(unreachable.code, 1);
  assert.match(
    unreachable.stderr,
    new RegExp(`^error: MPD at 127\\.0\\.0\\.1:${closed}: cannot connect .*is mpd running\\?\\n$`),
  );

  const guarded = await startMpd("password", "s3cret");
  try {
    await guarded.mpc("add", "Alpha/a2.flac");
    await guarded.mpc("play");
    await guarded.mpc("pause");
    const wrong = await denoTask([
      "playlist",
      "--mpd",
      `127.0.0.1:${guarded.port}`,
      "--mpd-root",
      music,
      ...common,
    ], {
      env: { MPD_PASSWORD: "nope" },
    });
    assert.equal(wrong.code, 1);
    assert.match(
      wrong.stderr,
      /^error: MPD at .*: the password was refused \(MPD_PASSWORD\): .*incorrect password\n$/,
    );
    const right = await denoTask(
      ["playlist", "--mpd", `127.0.0.1:${guarded.port}`, "--mpd-root", music, "-n", "3", ...common],
      { env: { MPD_PASSWORD: "s3cret" } },
    );
    assert.equal(right.code, 0, right.stderr);
    assert.equal((await queue(guarded)).length, 3);
  } finally {
    await guarded.stop();
  }

  const fake = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    for await (const conn of fake) {
      await conn.write(new TextEncoder().encode("HTTP/1.1 400 Bad Request\r\n\r\n")).catch(() => {});
      conn.close();
    }
  })();
  try {
    const port = (fake.addr as Deno.NetAddr).port;
    const notMpd = await denoTask(["playlist", "--mpd", `127.0.0.1:${port}`, "--mpd-root", music, ...common]);
    assert.equal(notMpd.code, 1);
    assert.match(
      notMpd.stderr,
      /^error: MPD at .*: this peer does not speak MPD \(it answered "HTTP\/1\.1 400 Bad Request\?"\)\n$/,
    );
  } finally {
    fake.close();
    await serving.catch(() => {});
  }

  const stranger = await startMpd("stranger");
  try {
    await stranger.mpc("add", "Gamma/g1.ogg");
    await stranger.mpc("play");
    await stranger.mpc("pause");
    const other = join(root, "other.db");
    await embedCollection({
      inputs: [join(music, "Alpha")],
      db: other,
      weights,
      modelsDir: models,
      backend: "native",
      device: "cpu",
      hopSize: 1,
      quiet: true,
    });
    const r = await denoTask([
      "playlist",
      "--mpd",
      `127.0.0.1:${stranger.port}`,
      "--mpd-root",
      music,
      "--db",
      other,
    ]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: MPD at .* plays "Gamma\/g1\.ogg", which is not stored in .*other\.db/);
    const noRoot = await denoTask(["playlist", "--mpd", `127.0.0.1:${stranger.port}`, ...common]);
    assert.equal(noRoot.code, 2);
    assert.match(noRoot.stderr, /--mpd needs --mpd-root DIR/);
  } finally {
    await stranger.stop();
  }
});

Deno.test("mpd: cleanup", async () => {
  await Deno.remove(root, { recursive: true });
});
