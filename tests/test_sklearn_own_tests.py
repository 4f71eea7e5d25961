"""scikit-learn's own tests of its MLP estimators (sklearn/neural_network/tests/test_mlp.py,
as installed), run against fastbp.sklearn's: every one passes but those that read
scikit-learn's private attributes (its optimizer object, its L-BFGS loss function)."""

import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import sklearn.neural_network

OWN_TESTS = Path(sklearn.neural_network.__file__).parent / "tests" / "test_mlp.py"
THEIRS = "from sklearn.neural_network import MLPClassifier, MLPRegressor"
OURS = "from fastbp.sklearn import MLPClassifier, MLPRegressor"
# scikit-learn's conftest gives its tests this fixture; one seed, as its CI's default run.
CONFTEST = """
import pytest

@pytest.fixture(params=[42])
def global_random_seed(request):
    return request.param
"""


def test_scikit_learns_own_mlp_tests_pass_but_those_reading_its_private_attributes(tmp_path):
    source = OWN_TESTS.read_text()
    assert THEIRS in source
    (tmp_path / "test_mlp_fastbp.py").write_text(source.replace(THEIRS, OURS))
    (tmp_path / "conftest.py").write_text(CONFTEST)
    report = tmp_path / "report.xml"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         f"--junitxml={report}", "test_mlp_fastbp.py"],
        capture_output=True, text=True, cwd=tmp_path, timeout=900,
        env={**os.environ, "PYTHONWARNINGS": ""},
    )  # fmt: skip
    suite = ElementTree.parse(report).getroot().find("testsuite")
    failed = {}
    for case in suite.iter("testcase"):
        for outcome in ("failure", "error"):
            found = case.find(outcome)
            if found is not None:
                failed[case.get("name")] = found.get("message")
    assert int(suite.get("tests")) > 50, result.stdout[-2000:]
    reads_private = {
        name: message for name, message in failed.items() if "has no attribute '_" in message
    }
    assert failed == reads_private, result.stdout[-4000:]
