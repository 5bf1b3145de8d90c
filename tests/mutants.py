"""Summarize a mutmut run: `make mutants` calls this after `mutmut run`.

Prints mutants generated, killed, surviving and the survival rate per module and
in total, lists every survivor, and marks those that tests/MUTANTS.md explains
(equivalent or harmless mutants, one line each: `- d2lmini.x.xǁy__mutmut_3: why`).
Exits 1 when more than 10% of the mutants survive or a survivor is unexplained.
"""
import collections
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
MUTMUT = pathlib.Path(sys.executable).with_name('mutmut')
LIMIT = 0.10
# mutmut's statuses: no test reaching the mutated code, or a run that passed slowly, count
# as surviving; a timeout or crash means the tests noticed the change.
SURVIVED = {'survived', 'no tests', 'suspicious'}
KILLED = {'killed', 'timeout', 'segfault', 'caught by type check'}


def statuses():
    """{mutant name: status} from `mutmut results --all true`."""
    out = subprocess.run([str(MUTMUT), 'results', '--all', 'true'], cwd=ROOT, text=True,
                         capture_output=True, check=True).stdout
    result = {}
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(': ')
        if sep and name:
            result[name] = status
    return result


def explained():
    path = ROOT / 'tests' / 'MUTANTS.md'
    text = path.read_text(encoding='utf-8') if path.exists() else ''
    return dict(re.findall(r'^- `?([\w.ǁ]+__mutmut_\d+)`?: (.+)$', text, re.M))


def main():
    found = statuses()
    if not found:
        print('no mutants found: run `mutmut run` first')
        return 1
    reasons = explained()
    per_module = collections.defaultdict(collections.Counter)
    for name, status in found.items():
        status = 'killed' if status in KILLED else 'survived' if status in SURVIVED else status
        found[name] = status
        per_module['.'.join(name.split('.')[:2])][status] += 1  # d2lmini.<module>
    total = collections.Counter(found.values())
    print(f'{"module":32} {"mutants":>8} {"killed":>7} {"survived":>9} {"other":>6}')
    for module, c in sorted(per_module.items()):
        n = sum(c.values())
        other = n - c['killed'] - c['survived']
        print(f'{module:32} {n:8} {c["killed"]:7} {c["survived"]:9} {other:6}')
    n = sum(total.values())
    rate = total['survived'] / n
    print(f'{"total":32} {n:8} {total["killed"]:7} {total["survived"]:9} '
          f'{n - total["killed"] - total["survived"]:6}')
    print(f'survival rate {rate:.1%} (limit {LIMIT:.0%}); statuses: {dict(total)}')
    unchecked = n - total['killed'] - total['survived']
    if unchecked:
        print(f'{unchecked} mutant(s) not checked: run `make mutants` to the end')
    unexplained = []
    for name in sorted(k for k, s in found.items() if s == 'survived'):
        why = reasons.get(name)
        print(f'  survived {name}: {why or "NOT EXPLAINED (see mutmut show " + name + ")"}')
        if not why:
            unexplained.append(name)
    if unexplained:
        print(f'{len(unexplained)} survivor(s) not explained in tests/MUTANTS.md')
    return 1 if rate > LIMIT or unexplained or unchecked else 0


if __name__ == '__main__':
    sys.exit(main())
