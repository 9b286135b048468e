"""Runs a Beam Python module (a job service, a worker pool) with loopback binds.

usage: python3 beam_module.py MODULE [ARGS...]
"""
import importlib.util
import runpy
import sys

import beam_loopback  # noqa: F401

if __name__ == '__main__':
  module = sys.argv[1]
  sys.argv = [importlib.util.find_spec(module).origin] + sys.argv[2:]
  runpy.run_module(module, run_name='__main__', alter_sys=True)
