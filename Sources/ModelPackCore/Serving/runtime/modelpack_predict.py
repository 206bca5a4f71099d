"""modelpack predict: a boxed model over a file of rows, through the server's own loader and input
check (modelpack_inputs), in batches, with memory bounded by the batch whatever the input's size.

    modelpack_predict.py --model DIR --serving serving.json --input FILE --output OUT|-
                         [--batch-size N] [--skip-invalid] [--id-column NAME] [--progress]

--batch-size: rows per call to predict(); metadata.yaml's resources.batch_size, else 1024.

Input by extension: .csv (a header row; cells converted by the declared input types), .jsonl or
.ndjson (one JSON object or list per line), .json (an array, read element by element), .parquet
(with pyarrow). Output by extension: .csv, .parquet (with pyarrow), else JSON Lines (and on stdout,
which ends quietly when its reader stops); each row carries its id (the --id-column value, else its
number, 1 for the first row, as on Spark and Ray). A row that does not fit the inputs is reported
with its line number and fails the run, or with --skip-invalid is left out. The output is written
to a temporary file renamed into place. Exit 0, 1 (bad input), 2 (usage).
"""
import argparse
import csv
import json
import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from modelpack_inputs import batch_size, jsonable, load_model, validate  # the runtime's module, beside this file


class BadInput(Exception):
    """A problem with the input file, already phrased as 'FILE:LINE: why'."""


def convert(cell, spec):
    """A CSV cell as the value its declared input takes."""
    kind = spec["type"]
    if cell is None:
        raise ValueError("is missing")
    if kind in ("string", "categorical"):
        return cell
    if cell == "":
        raise ValueError("is empty")
    if kind == "float":
        try:
            return float(cell)
        except ValueError:
            raise ValueError(f"'{cell}' is not a number") from None
    if kind == "int":
        try:
            return int(cell)
        except ValueError:
            raise ValueError(f"'{cell}' is not an integer") from None
    if kind == "bool":
        lowered = cell.strip().lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no"):
            return False
        raise ValueError(f"'{cell}' is not true or false")
    if kind == "tensor":
        try:
            return json.loads(cell)
        except json.JSONDecodeError:
            raise ValueError(f"'{cell[:40]}' is not a JSON (nested) list") from None
    return cell


def read_csv(path, inputs, id_column):
    """(line, id, instance or error) per record; `line` is where the record starts."""
    by_name = {spec["name"]: spec for spec in inputs}
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            return
        id_index = header.index(id_column) if id_column and id_column in header else None
        # Per column: its name and how a cell becomes the declared input's value (None: not an
        # input, passed as text for the shared check to report).
        columns = [(i, name, by_name.get(name)) for i, name in enumerate(header) if i != id_index]
        fast = [(i, name) for i, name, spec in columns if spec is not None and spec["type"] == "float"]
        start = reader.line_num + 1
        width = len(header)
        for record in reader:
            line = start
            start = reader.line_num + 1
            row_id = record[id_index] if id_index is not None and id_index < len(record) else None
            if len(record) > width:
                yield line, row_id, "has more cells than the header"
                continue
            if len(fast) == len(columns) == width and len(record) == width:
                try:  # every column a float input: the common case, in one go
                    yield line, row_id, {name: float(record[i]) for i, name in fast}
                    continue
                except ValueError:
                    pass  # the slow path below names the cell
            instance, problem = {}, None
            for i, name, spec in columns:
                cell = record[i] if i < len(record) else None
                if spec is None:
                    if cell is not None:
                        instance[name] = cell  # reported by the shared check: not an input
                    continue
                try:
                    instance[name] = convert(cell, spec)
                except ValueError as error:
                    problem = f"input '{name}' {error}"
                    break
            yield line, row_id, problem or instance


def read_jsonl(path, id_column):
    with open(path, encoding="utf-8") as f:
        for line_number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as error:
                yield line_number, None, f"is not JSON ({error.msg})"
                continue
            yield (line_number, *take_id(value, id_column))


def take_id(value, id_column):
    """The row's --id-column value (taken out of it), else None (numbered by `numbered`)."""
    if id_column and isinstance(value, dict) and id_column in value:
        value = dict(value)
        return value.pop(id_column), value
    return None, value


def numbered(rows):
    """A row's id without --id-column: its number, 1 for the first row, whatever the format (the
    line a row starts on stays in messages), as the Spark and Ray engines number them."""
    for number, (line, row_id, value) in enumerate(rows, 1):
        yield line, number if row_id is None else row_id, value


def read_json_array(path, id_column, chunk=1 << 20):
    """The elements of a top-level JSON array, decoded one at a time from a sliding buffer."""
    decoder = json.JSONDecoder()
    with open(path, encoding="utf-8") as f:
        buffer, line, eof = "", 1, False

        def more():
            nonlocal buffer, eof
            data = f.read(chunk)
            eof = not data
            buffer += data

        def next_char():
            """Skips white space (reading on as needed); the next character, or '' at the end."""
            nonlocal buffer, line
            while True:
                i = 0
                while i < len(buffer) and buffer[i] in " \t\r\n":
                    i += 1
                line += buffer.count("\n", 0, i)
                buffer = buffer[i:]
                if buffer or eof:
                    return buffer[:1]
                more()

        more()
        if next_char() != "[":
            raise BadInput(f"{path}:{line}: a .json input must be an array of rows")
        buffer = buffer[1:]
        if next_char() == "]":
            return
        while True:
            while True:
                try:
                    value, end = decoder.raw_decode(buffer)
                except json.JSONDecodeError as error:
                    if eof:
                        raise BadInput(f"{path}:{line}: {error.msg}") from None
                    more()
                    continue
                if end < len(buffer) or eof:
                    break
                more()  # a number or literal may go on in the next chunk
            start = line
            line += buffer.count("\n", 0, end)
            buffer = buffer[end:]
            yield (start, *take_id(value, id_column))
            following = next_char()
            if following == "]":
                return
            if following != ",":
                raise BadInput(f"{path}:{line}: expected ',' or ']' between rows")
            buffer = buffer[1:]
            next_char()


def read_parquet(path, id_column, batch_size):
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise BadInput(f"{path}: reading Parquet needs pyarrow among the model's requirements") from None
    row = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_size):
        for value in batch.to_pylist():
            row += 1
            yield (row, *take_id(value, id_column))


class Writer:
    """JSON Lines, CSV or Parquet (by the output's extension; JSON Lines on stdout), to a temporary
    file beside the output renamed into place at the end."""

    def __init__(self, output, outputs):
        self.output = output
        lower = output.lower()
        self.csv = lower.endswith(".csv")
        self.parquet = lower.endswith(".parquet")
        self.names = [o["name"] for o in outputs]
        self.table = self.columns = None
        self.pending, self.parquet_writer = [], None
        if output == "-":
            self.file, self.temporary = sys.stdout, None
        else:
            self.temporary = f"{output}.modelpack-tmp-{os.getpid()}"
            if self.parquet:
                try:
                    import pyarrow
                    import pyarrow.parquet  # noqa: F401
                except ImportError:
                    raise BadInput(f"{output}: writing Parquet needs pyarrow among the model's requirements") from None
                self.file = None
            else:
                self.file = open(self.temporary, "w", newline="", encoding="utf-8")  # noqa: SIM115 (closed by finish)

    encode = json.JSONEncoder(allow_nan=False).encode

    def row_columns(self, prediction):
        if self.columns is None:
            self.columns = self.names if isinstance(prediction, dict) else ["prediction"]
        return [prediction.get(name) for name in self.columns] if isinstance(prediction, dict) else [prediction]

    def write(self, row_id, prediction):
        if self.parquet:
            cells = self.row_columns(prediction)
            for cell in cells:
                if isinstance(cell, float) and (cell != cell or cell in (float("inf"), float("-inf"))):
                    raise ValueError("NaN or infinity")
            self.pending.append({"id": row_id, **dict(zip(self.columns, cells))})
            return
        if not self.csv:
            self.file.write(self.encode({"id": row_id, "prediction": prediction}) + "\n")
            return
        if self.table is None:
            self.row_columns(prediction)
            self.table = csv.writer(self.file)
            self.table.writerow(["id", *self.columns])
        cells = self.row_columns(prediction)
        for cell in cells:
            if isinstance(cell, float) and (cell != cell or cell in (float("inf"), float("-inf"))):
                raise ValueError("NaN or infinity")
        self.table.writerow(
            [row_id, *[c if isinstance(c, (str, int, float)) else json.dumps(c, allow_nan=False) for c in cells]])

    def flush(self):
        """Parquet: the rows written so far, as one row group (the first fixes the columns' types)."""
        if not self.parquet or not self.pending:
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        rows, self.pending = self.pending, []
        try:
            table = pa.Table.from_pylist(rows)
            if self.parquet_writer is None:
                self.parquet_writer = pq.ParquetWriter(self.temporary, table.schema)
            else:
                table = table.cast(self.parquet_writer.schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, ValueError) as error:
            raise BadInput(f"interface.py: predict()'s answers do not make one Parquet table: {error}") from None
        self.parquet_writer.write_table(table)

    def finish(self):
        if self.parquet:
            self.flush()
            if self.parquet_writer is None:  # no rows: an empty table of ids
                import pyarrow as pa
                import pyarrow.parquet as pq

                pq.write_table(pa.table({"id": pa.array([], pa.int64())}), self.temporary)
            else:
                self.parquet_writer.close()
            with open(self.temporary, "rb") as written:
                os.fsync(written.fileno())
            os.replace(self.temporary, self.output)
            return
        if self.temporary:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
            os.replace(self.temporary, self.output)

    def abandon(self):
        if self.parquet:
            if self.parquet_writer is not None:
                self.parquet_writer.close()
            if os.path.exists(self.temporary):
                os.unlink(self.temporary)
            return
        if self.temporary:
            self.file.close()
            os.unlink(self.temporary)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--serving", required=True)
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--skip-invalid", action="store_true")
    parser.add_argument("--id-column")
    parser.add_argument("--progress", action="store_true")
    args = parser.parse_args()
    serving = json.loads(Path(args.serving).read_text())
    args.batch_size = batch_size(serving, args.batch_size)
    inputs, path = serving["inputs"], args.input
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        rows = read_csv(path, inputs, args.id_column)
    elif suffix in (".jsonl", ".ndjson"):
        rows = read_jsonl(path, args.id_column)
    elif suffix == ".json":
        rows = read_json_array(path, args.id_column)
    elif suffix == ".parquet":
        rows = read_parquet(path, args.id_column, args.batch_size)
    else:
        print(f"error: {path}: give a .csv, .jsonl, .ndjson, .json or .parquet input", file=sys.stderr)
        return 2
    rows = numbered(rows)
    if args.output == "-":
        # A reader that stops early (`| head`) ends the run as it ends any Unix filter: quietly.
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        writer = Writer(args.output, serving.get("outputs", []))
    except BadInput as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    model = load_model(args.model)
    done = skipped = 0
    started = time.perf_counter()

    def run(batch):
        """Checks and predicts one batch of (line, id, instance or the reader's problem)."""
        nonlocal done, skipped
        bad = {i: entry[2] for i, entry in enumerate(batch) if isinstance(entry[2], str)}
        good = [i for i in range(len(batch)) if i not in bad]
        checked, problems = validate([batch[i][2] for i in good], inputs)
        for problem in problems:
            where = f"input '{problem['input']}' " if "input" in problem else ""
            bad.setdefault(good[problem["instance"]], f"{where}{problem['error']}")
        if bad and not args.skip_invalid:
            index = min(bad)
            raise BadInput(f"{path}:{batch[index][0]}: {bad[index]}")
        for index in sorted(bad):
            print(f"warning: {path}:{batch[index][0]}: {bad[index]}; skipped", file=sys.stderr)
        skipped += len(bad)
        rows = [row for i, row in zip(good, checked) if i not in bad]
        keep = [i for i in good if i not in bad]
        if not keep:
            return
        predictions = jsonable(model.predict(rows))
        if not isinstance(predictions, list) or len(predictions) != len(rows):
            count = len(predictions) if isinstance(predictions, list) else type(predictions).__name__
            raise BadInput(f"interface.py: predict() returned {count} for {len(rows)} rows (one item per row)")
        for i, prediction in zip(keep, predictions):
            try:
                writer.write(batch[i][1], prediction)
            except ValueError:
                raise BadInput(
                    f"interface.py: predict() returned NaN or infinity for {path}:{batch[i][0]} (JSON has neither)"
                ) from None
        done += len(keep)
        writer.flush()
        if args.progress:
            rate = done / max(time.perf_counter() - started, 1e-9)
            print(f"\r\x1b[Kpredict {done} rows ({skipped} skipped), {rate:,.0f} rows/s", end="", file=sys.stderr)

    try:
        batch = []
        for entry in rows:  # (line, id, instance or the reader's problem with the row)
            batch.append(entry)
            if len(batch) >= args.batch_size:
                run(batch)
                batch = []
        if batch:
            run(batch)
    except BadInput as error:
        writer.abandon()
        if args.progress:
            print("\r\x1b[K", end="", file=sys.stderr)
        print(f"error: {error}", file=sys.stderr)
        return 1
    except BaseException:
        writer.abandon()
        raise
    writer.finish()
    seconds = time.perf_counter() - started
    if args.progress:
        print("\r\x1b[K", end="", file=sys.stderr)
    where = "" if args.output == "-" else f" -> {args.output}"
    rate = done / max(seconds, 1e-9)
    print(f"predicted {done} rows ({skipped} skipped) in {seconds:.2f} s, {rate:,.0f} rows/s{where}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
