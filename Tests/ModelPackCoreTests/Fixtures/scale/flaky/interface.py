"""A model whose Python worker dies once, at the row x == 777, the first time it sees it (the
marker file named by MODELPACK_TEST_FLAKY_MARKER records that it did): Spark must retry the task
and still write every row once."""
import os


class Doubler:
    def predict(self, rows):
        marker = os.environ.get("MODELPACK_TEST_FLAKY_MARKER")
        for row in rows:
            if row["x"] == 777 and marker and not os.path.exists(marker):
                open(marker, "w").close()
                os._exit(1)  # the worker process dies mid-task, as a crash or an OOM kill would
        return [row["x"] * 2 for row in rows]


def load_model():
    return Doubler()
