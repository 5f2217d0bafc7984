/** This tool's version, recorded with every stored vector. */
export const TOOL_VERSION = "0.2.0";
