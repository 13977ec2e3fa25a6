"""The transport's floor for `npm run bench:envoy`: an ext_authz server on gRPC C-core (Debian's
python3-grpcio) that answers every Check with one fixed CheckResponse, given as protobuf bytes
in a file (the answer jwt-ext-authz gave the hot token, as the grpc-js baseline answers), so
Envoy does the same work behind it. No protobuf decoding: the method takes and returns bytes.

usage: python3 floor-server.py HOST:PORT ANSWER_FILE   (prints "floor listening PORT")
"""

import signal
import sys
import threading
from concurrent import futures

import grpc


def main() -> None:
    address, answer_file = sys.argv[1], sys.argv[2]
    with open(answer_file, "rb") as f:
        answer = f.read()

    def check(_request: bytes, _context: grpc.ServicerContext) -> bytes:
        return answer

    handler = grpc.method_handlers_generic_handler(
        "envoy.service.auth.v3.Authorization",
        {"Check": grpc.unary_unary_rpc_method_handler(check)},
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), handlers=[handler])
    port = server.add_insecure_port(address)
    server.start()
    print(f"floor listening {port}", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    stopped.wait()
    server.stop(0)


if __name__ == "__main__":
    main()
