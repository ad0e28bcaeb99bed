/**
 * The Python program that runs milvus-lite ≥ 3.0 for the python engine: `python -c
 * kPythonWrapperBootstrap <data_dir> <address>`, the program itself in the environment variable
 * `kPythonWrapperEnv` (so command lines and error messages stay short). `address` is
 * `unix:/private/dir/milvus.sock` (the default) or `127.0.0.1:PORT` (opt-in TCP).
 *
 * It builds the gRPC server itself, as milvus-lite's own `start_server_in_thread` does
 * (milvus_lite/adapter/grpc/server.py: a `MilvusLite` database, `MilvusServicer`, a thread pool of
 * 10, 256 MB message limits), with two differences:
 * - `grpc.so_reuseport` is 0. gRPC turns SO_REUSEPORT on by default, which lets a second server
 *   bind a port that is in use, and clients are then routed between databases.
 * - CreateIndex without an `index_type` gets `AUTOINDEX`, as Milvus does; milvus-lite 3.2.2's
 *   translator (adapter/grpc/translators/index.py) refuses it, and the Node SDK leaves it out.
 *
 * Protocol: one JSON line `{"address": …}` on stdout once the server is listening. It stops
 * gracefully (server.stop, then MilvusLite.close, exit 0) on SIGINT, SIGTERM or when its stdin
 * closes: the owning Node process dying, even by SIGKILL, closes that pipe. On Linux it also asks
 * for SIGINT at parent death (PR_SET_PDEATHSIG), the same graceful stop (a SIGKILL there would beat
 * the stdin stop and skip milvus-lite's close). Once asked to stop, it exits within 30 s whatever
 * happens (`alarm(30)`: the kernel ends it with SIGALRM), so a wedged shutdown never leaves an orphan. Exit codes: 3 the data directory is locked
 * (DataDirLockedError), 4 the address could not be bound (in use), 1 anything else.
 */
export const kPythonWrapper = String.raw`
import json, os, signal, sys, threading
try:
    import ctypes
    ctypes.CDLL("libc.so.6").prctl(1, signal.SIGINT)  # PR_SET_PDEATHSIG: a graceful stop
except Exception:
    pass
# Stop requests arrive on a self-pipe. A signal handler must not take a lock: one that calls
# threading.Event.set() deadlocks when the signal lands while the main thread holds the Event's own
# lock inside wait(), which the parent-death SIGINT and stdin's EOF, arriving together, made happen.
wake_r, wake_w = os.pipe()
os.set_blocking(wake_w, False)
def request_stop(*_):
    try:
        os.write(wake_w, b"x")
    except OSError:
        pass  # the pipe is full: a stop is already requested
signal.signal(signal.SIGINT, request_stop)
signal.signal(signal.SIGTERM, request_stop)
# The C-level handler writes to the pipe too, whichever thread the kernel hands the signal to. A
# signal that waited while the process was stopped (SIGSTOP, then SIGINT, then SIGCONT) may land on a
# gRPC or stdin thread; Python would run request_stop only once the main thread, blocked in the read
# below, ran again, which it never does.
signal.set_wakeup_fd(wake_w)
signal.signal(signal.SIGALRM, signal.SIG_DFL)  # the stop's watchdog: the kernel ends the process
def watch_stdin():
    # os.read, not sys.stdin: a daemon thread blocked in a buffered read aborts interpreter shutdown.
    while os.read(0, 65536):
        pass
    request_stop()
threading.Thread(target=watch_stdin, daemon=True).start()
data_dir, address = sys.argv[1], sys.argv[2]
def fail(code, error):
    sys.stderr.write("%s: %s\n" % (type(error).__name__, error)); sys.stderr.flush()
    os._exit(code)
try:
    from concurrent import futures
    import grpc
    from pymilvus.grpc_gen import milvus_pb2_grpc
    from milvus_lite.adapter.grpc import server as lite_server
    from milvus_lite.adapter.grpc.servicer import MilvusServicer
    from milvus_lite.db import MilvusLite
    class Servicer(MilvusServicer):
        def CreateIndex(self, request, context):
            if not any(p.key == "index_type" and p.value for p in request.extra_params):
                kept = [p for p in request.extra_params if p.key != "index_type"]
                del request.extra_params[:]
                request.extra_params.extend(kept)
                request.extra_params.add(key="index_type", value="AUTOINDEX")
            return super().CreateIndex(request, context)
    limit = lite_server._MAX_MESSAGE_SIZE
    db = MilvusLite(data_dir)
except Exception as e:
    fail(3 if type(e).__name__ == "DataDirLockedError" else 1, e)
server = grpc.server(
    futures.ThreadPoolExecutor(max_workers=lite_server.DEFAULT_MAX_WORKERS),
    options=[
        ("grpc.max_receive_message_length", limit),
        ("grpc.max_send_message_length", limit),
        ("grpc.so_reuseport", 0),
    ],
)
milvus_pb2_grpc.add_MilvusServiceServicer_to_server(Servicer(db), server)
try:
    if server.add_insecure_port(address) == 0:
        raise RuntimeError("Failed to bind to address %s" % address)
    server.start()
except Exception as e:
    db.close()
    fail(4 if "bind" in str(e).lower() else 1, e)
sys.stdout.write(json.dumps({"address": address}) + "\n"); sys.stdout.flush()
os.read(wake_r, 1)  # PEP 475: a signal's handler runs, and the read goes on to get its byte
# Stopping. Later signals (the parent-death one after stdin's EOF) only write to the pipe, so they
# cannot cut the close short; SIGALRM (its default action, set above) ends a close that wedges.
signal.alarm(30)
server.stop(grace=2).wait()
db.close()
sys.stdout.flush(); sys.stderr.flush()
os._exit(0)
`;

/** The environment variable that carries `kPythonWrapper` to `kPythonWrapperBootstrap`. */
export const kPythonWrapperEnv = 'LEASEHOLD_MILVUS_WRAPPER';

/** `python -c` program that runs the wrapper; tracebacks name it `leasehold-milvus-wrapper`. */
export const kPythonWrapperBootstrap = `import os; exec(compile(os.environ.pop("${kPythonWrapperEnv}"), "leasehold-milvus-wrapper", "exec"))`;
