"""Keeps Beam Python's runner-side servers on loopback (imported by the interop drivers).

Beam 2.50 binds its Fn API servers to '[::]' (fn_api_runner/worker_handlers.py)
and advertises socket.getfqdn() to EXTERNAL workers, which fails on machines
whose hostname does not resolve. The interop suite binds every wildcard address
to 127.0.0.1 and advertises 127.0.0.1 instead. Nothing else is changed.
"""
from grpc import _server

_WILDCARDS = ('[::]', '0.0.0.0', '')
_add_insecure_port = _server._Server.add_insecure_port


def _loopback(self, address):
  host, sep, port = address.rpartition(':')
  if sep and host in _WILDCARDS:
    address = '127.0.0.1:' + port
  return _add_insecure_port(self, address)


_server._Server.add_insecure_port = _loopback

from apache_beam.runners.portability.fn_api_runner import worker_handlers  # noqa: E402

worker_handlers.ExternalWorkerHandler.host_from_worker = lambda self: '127.0.0.1'
