// What the embedded compute agent keeps in the share when its state directory is the share (the
// default): named once here so that the agent (src/compute/agent/server.ts) and the driver's
// orphan report (src/drivers/remotefs/orphans.ts), which must never list them, agree. Constants only.

/** The agent's state file; its temporaries carry this name as a prefix. */
export const AGENT_STATE_FILE_NAME = '.compute-agent-state.json';

/** Beside the state file: the QMP sockets and pid files of the instances' QEMUs. */
export const AGENT_QEMU_RUN_DIR_NAME = '.compute-agent-qemu';
