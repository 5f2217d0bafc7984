/**
 * Headless Chromium for the browser tests: Debian's `chromium` (or the one
 * `CHROMIUM` names), driven by playwright-core. `.ci/run` installs it.
 */
import { chromium } from "playwright-core";

/** Path of the Chromium binary. */
export function chromiumPath(): string {
  const path = Deno.env.get("CHROMIUM") ?? "/usr/bin/chromium";
  try {
    Deno.statSync(path);
  } catch {
    throw new Error(
      `no Chromium at ${path}: the browser tests need Debian's chromium (apt-get install chromium) ` +
        `or CHROMIUM=<path to a Chromium binary>`,
    );
  }
  return path;
}

/**
 * Launch headless Chromium with the flags this machine's closed network and root user need; with `webgpu`,
 * WebGPU on its software adapter (SwiftShader), as on a machine without a GPU.
 */
export function launchChromium(options: { webgpu?: boolean } = {}): ReturnType<typeof chromium.launch> {
  return chromium.launch({
    executablePath: chromiumPath(),
    args: [
      "--no-sandbox",
      ...(options.webgpu
        ? ["--enable-unsafe-webgpu", "--use-webgpu-adapter=swiftshader", "--enable-features=Vulkan"]
        : ["--disable-gpu"]),
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--autoplay-policy=no-user-gesture-required",
    ],
  });
}
