"""Code that a notebook teaches and d2lmini ships must not drift apart.

A code cell tagged ``d2lmini:<Name>`` shows package code: every function it
defines (methods of a class ``<Name>``, functions decorated with
``@d2l.add_to_class(d2l.<Name>)``, or plain functions) must equal, as parsed
code, the package's function of the same name on ``d2lmini.<Name>`` (or in
``d2lmini`` itself for plain functions).
"""
import ast
import inspect
import textwrap

import pytest

import d2lmini
from notebook_tools import NOTEBOOKS, code_cells, notebook_paths

TAG = 'd2lmini:'


def tagged_cells():
    for page in notebook_paths('en'):
        for i, (source, tags) in enumerate(code_cells(NOTEBOOKS / 'en' / page)):
            for tag in tags:
                if tag.startswith(TAG):
                    yield pytest.param(source, tag[len(TAG):], id=f'{page}:cell{i}:{tag}')


def normalised(func_node):
    """A function's code without decorators, docstring indentation evened out."""
    func_node = func_node.__class__(**{**func_node.__dict__, 'decorator_list': []})
    body = func_node.body
    if (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)):
        doc = ast.Expr(ast.Constant(inspect.cleandoc(body[0].value.value)))
        func_node.body = [doc] + body[1:]
    return ast.unparse(func_node)


def package_function(owner, name):
    obj = inspect.getattr_static(owner, name)
    if isinstance(obj, property):
        obj = obj.fget
    elif isinstance(obj, (staticmethod, classmethod)):
        obj = obj.__func__
    source = textwrap.dedent(inspect.getsource(obj))
    return next(n for n in ast.parse(source).body
                if isinstance(n, (ast.FunctionDef, ast.ClassDef)))


def shown_functions(source, name):
    """(owner, function node) for every function the cell defines."""
    tree = ast.parse(source)
    target = getattr(d2lmini, name)
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    yield target, item
        elif isinstance(node, ast.FunctionDef):
            owner = target if any('add_to_class' in ast.unparse(d)
                                  for d in node.decorator_list) else d2lmini
            yield owner, node


CELLS = list(tagged_cells())


def test_some_cells_are_tagged():
    assert CELLS, f'no code cell carries a {TAG}<Name> tag'


@pytest.mark.parametrize('source, name', CELLS)
def test_tagged_cell_matches_the_package(source, name):
    assert hasattr(d2lmini, name), f'd2lmini has no {name}'
    shown = list(shown_functions(source, name))
    assert shown, 'the tagged cell defines no function'
    for owner, node in shown:
        assert hasattr(owner, node.name), f'{owner.__name__} has no {node.name}'
        package = package_function(owner, node.name)
        assert normalised(node) == normalised(package), (
            f'{node.name} in the notebook differs from d2lmini\'s; copy it from '
            f'{inspect.getsourcefile(getattr(owner, node.name))}')
