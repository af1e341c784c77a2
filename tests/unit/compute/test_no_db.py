"""Compute nodes have no database: kumo_compute never imports SQLAlchemy or kumo_common.db.

Two checks: the agent's own source names neither (so no lazy import hides in a
function), and importing every agent module -- then building an agent and its node
report -- leaves neither in sys.modules (so nothing pulls them in transitively).
"""
from __future__ import annotations

import ast
import json
import os
import pkgutil
import subprocess
import sys
import textwrap

import testtools

import kumo_compute

FORBIDDEN = ('sqlalchemy', 'kumo_common.db', 'alembic')


def _forbidden(module: str) -> bool:
    return any(module == f or module.startswith(f + '.') for f in FORBIDDEN)


def _imported_names(tree: ast.AST, package: str) -> list[tuple[int, str]]:
    """(line, dotted module) of every import in a module, relative ones resolved."""
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit('.', node.level - 1)[0] if node.level > 1 \
                    else package
                module = f'{base}.{node.module}' if node.module else base
            else:
                module = node.module or ''
            names.append((node.lineno, module))
            # `from kumo_common import db` imports the module kumo_common.db.
            names.extend((node.lineno, f'{module}.{alias.name}') for alias in node.names)
        elif isinstance(node, ast.Call) and getattr(node.func, 'attr', getattr(
                node.func, 'id', None)) in ('import_module', '__import__'):
            if node.args and isinstance(node.args[0], ast.Constant):
                names.append((node.lineno, str(node.args[0].value)))
    return names


class TestComputeAgentHasNoDatabase(testtools.TestCase):

    def _sources(self):
        # __path__ rather than __file__: an editable install made before the package
        # had an __init__.py imports it as a namespace package (no __file__).
        roots = [p for p in kumo_compute.__path__ if os.path.isdir(p)]
        self.assertEqual(1, len(roots), roots)
        root = roots[0]
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                if name.endswith('.py'):
                    path = os.path.join(dirpath, name)
                    rel = os.path.relpath(path, os.path.dirname(root))[:-3]
                    module = rel.replace(os.sep, '.')
                    package = module if name == '__init__.py' else module.rsplit('.', 1)[0]
                    yield path, package.removesuffix('.__init__')

    def test_source_imports(self):
        sources = list(self._sources())
        # The walk found the agent (guards against checking an empty tree).
        self.assertGreater(len(sources), 5)
        offenders = []
        for path, package in sources:
            with open(path, encoding='utf-8') as f:
                tree = ast.parse(f.read(), path)
            for line, module in _imported_names(tree, package):
                if _forbidden(module):
                    offenders.append(f'{path}:{line} imports {module}')
        self.assertEqual([], offenders)

    def test_ast_check_catches_what_it_should(self):
        code = textwrap.dedent('''
            import sqlalchemy.orm
            from kumo_common import db
            from kumo_common.db import session
            def later():
                import importlib
                importlib.import_module('kumo_common.db.models')
        ''')
        found = [m for _l, m in _imported_names(ast.parse(code), 'kumo_compute')
                 if _forbidden(m)]
        self.assertEqual(['sqlalchemy.orm', 'kumo_common.db', 'kumo_common.db',
                          'kumo_common.db.session', 'kumo_common.db.models'], found)

    def test_runtime_modules(self):
        modules = sorted(m.name for m in pkgutil.walk_packages(kumo_compute.__path__,
                                                               'kumo_compute.'))
        self.assertIn('kumo_compute.manager', modules)
        script = textwrap.dedent('''
            import importlib, json, sys, tempfile, warnings
            warnings.simplefilter('ignore')
            modules = json.loads(sys.argv[1])
            for name in modules:
                importlib.import_module(name)
            from oslo_config import cfg
            CONF = cfg.CONF
            CONF([], project='kumo', default_config_files=[])
            CONF.set_override('transport_url', 'fake://')
            # Build an agent as kumo-compute does, and its node report: no DB on the way.
            from kumo_compute.cmd import ComputeAgent
            agent = ComputeAgent('compute1', '127.0.1.1', 'cell1', tempfile.mkdtemp())
            report = agent.reporter.report()
            assert report.host == 'compute1', report
            print(json.dumps(sorted(m for m in sys.modules
                                    if m.split('.')[0] in ('sqlalchemy', 'alembic')
                                    or m == 'kumo_common.db'
                                    or m.startswith('kumo_common.db.'))))
        ''')
        proc = subprocess.run([sys.executable, '-c', script, json.dumps(modules)],
                              capture_output=True, text=True, timeout=120)
        self.assertEqual(0, proc.returncode, proc.stderr)
        loaded = json.loads(proc.stdout.strip().splitlines()[-1])
        self.assertEqual([], loaded,
                         'kumo_compute pulled in database modules; find the chain with '
                         'python -X importtime')
