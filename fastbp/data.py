"""Tables read from files for the ``fastbp`` command: CSV with a header row, ``.npz``, ``.npy``.

A ``Table`` is named columns of text or numbers; ``numeric`` turns chosen columns into a
float64 matrix, naming the first cell that is not a number. Class labels (any text) become
integer codes with ``labels``.
"""

import csv
import os
from dataclasses import dataclass

import numpy as np


@dataclass
class Table:
    """Columns by name, in file order; each column a 1-D array (str, or numbers)."""

    path: str
    columns: dict

    @property
    def names(self):
        return list(self.columns)

    @property
    def n_rows(self):
        return len(next(iter(self.columns.values())))

    def numeric(self, names):
        """The columns ``names`` as a float64 (n_rows, len(names)) matrix."""
        self._require(names)
        matrix = np.empty((self.n_rows, len(names)))
        for j, name in enumerate(names):
            column = self.columns[name]
            try:
                matrix[:, j] = column.astype(np.float64)
            except (TypeError, ValueError):
                row = next(i for i, cell in enumerate(column) if not _is_number(cell))
                raise ValueError(
                    f"{self.path}: row {row + 1} (line {row + 2}), column {name!r}: "
                    f"{str(column[row])!r} is not a number"
                ) from None
            bad = ~np.isfinite(matrix[:, j])
            if bad.any():
                row = int(np.argmax(bad))
                raise ValueError(
                    f"{self.path}: row {row + 1} (line {row + 2}), column {name!r}: "
                    f"{str(column[row])!r} is not a finite number"
                )
        return matrix

    def text_rows(self, name):
        """The rows (from 0) where column ``name`` holds a cell that is not a number."""
        self._require([name])
        column = self.columns[name]
        try:
            column.astype(np.float64)
        except (TypeError, ValueError):
            return np.array([i for i, cell in enumerate(column) if not _is_number(cell)])
        return np.array([], dtype=np.int64)

    def labels(self, name, classes=None):
        """Column ``name`` as integer class codes, and the classes (sorted, as text), or the
        codes of the given ``classes``."""
        self._require([name])
        text = np.array([_label_text(v) for v in self.columns[name]])
        if classes is None:
            classes = sorted(set(text.tolist()), key=_label_key)
        index = {label: code for code, label in enumerate(classes)}
        unknown = [i for i, label in enumerate(text) if label not in index]
        if unknown:
            raise ValueError(
                f"{self.path}: row {unknown[0] + 1}, column {name!r}: class {text[unknown[0]]!r} "
                f"is not one of the model's classes {list(classes)}"
            )
        return np.array([index[label] for label in text], dtype=np.int64), list(classes)

    def _require(self, names):
        missing = [name for name in names if name not in self.columns]
        if missing:
            raise ValueError(f"{self.path} has no column {missing[0]!r}; its columns: {self.names}")


def read(path):
    """The table in ``path``: a CSV with a header row (``.csv`` or ``.txt``), an ``.npz`` of
    1-D or 2-D arrays (2-D arrays ``X`` give columns ``X0``, ``X1``, ...), or a 2-D ``.npy``
    (columns ``0``, ``1``, ...)."""
    path = os.fspath(path)
    extension = os.path.splitext(path)[1].lower()
    if extension == ".npy":
        return _table_of_arrays(path, {"": np.load(path, allow_pickle=False)})
    if extension == ".npz":
        with np.load(path, allow_pickle=False) as archive:
            return _table_of_arrays(path, {name: archive[name] for name in archive.files})
    return _read_csv(path)


def write_csv(file, names, rows):
    """Write a header row of ``names`` and then ``rows`` to the open text ``file``; floats
    are written in full (``repr``), so they read back exactly."""
    writer = csv.writer(file)
    writer.writerow(names)
    for row in rows:
        writer.writerow([repr(float(v)) if isinstance(v, float) else v for v in row])


def _read_csv(path):
    with open(path, newline="", encoding="utf-8-sig") as file:
        rows = [row for row in csv.reader(file) if row]
    if not rows:
        raise ValueError(f"{path} is empty: expected a header row of column names, then data")
    header, body = [name.strip() for name in rows[0]], rows[1:]
    if len(set(header)) != len(header):
        raise ValueError(f"{path}: the header row repeats a column name: {header}")
    if not body:
        raise ValueError(f"{path} has a header row but no data rows")
    for i, row in enumerate(body):
        if len(row) != len(header):
            raise ValueError(
                f"{path}: row {i + 1} (line {i + 2}) has {len(row)} cells; the header has "
                f"{len(header)}"
            )
    cells = np.array(body, dtype=str)
    return Table(path, {name: np.char.strip(cells[:, j]) for j, name in enumerate(header)})


def _table_of_arrays(path, arrays):
    columns = {}
    for name, array in arrays.items():
        if array.dtype.hasobject or array.ndim not in (1, 2) or array.shape[0] == 0:
            raise ValueError(
                f"{path}: array {name or 'in the file'!r} must be a non-empty 1-D or 2-D array "
                f"of numbers or text; got shape {array.shape}, dtype {array.dtype}"
            )
        if array.ndim == 1:
            columns[name] = array
        else:
            columns.update({f"{name}{j}": array[:, j] for j in range(array.shape[1])})
    lengths = {len(column) for column in columns.values()}
    if len(lengths) != 1:
        raise ValueError(f"{path}: arrays of different lengths {sorted(lengths)}")
    return Table(path, columns)


def _is_number(cell):
    try:
        float(cell)
    except (TypeError, ValueError):
        return False
    return True


def _label_text(value):
    """A class label as text; numbers are written canonically, so "1.0" and 1 are one class."""
    if _is_number(value) and float(value).is_integer():
        return str(int(float(value)))
    return str(value)


def _label_key(label):
    """Numeric labels sort by value, others alphabetically after them."""
    return (0, float(label), "") if _is_number(label) else (1, 0.0, label)
