import Foundation
import Testing

@testable import ModelPackCore

/// Batch inference on Spark and Ray (`predict --engine`, runtime/modelpack_batch.py): real pyspark
/// (local mode, Java 17) and real Ray (a local cluster) from PyPI, installed by modelpack into the
/// model's cached virtualenv. In CI MODELPACK_REQUIRE_SCALE=1 makes these run, not skip.
@Suite(.serialized) struct ScaleTests {
    static var required: Bool { ProcessInfo.processInfo.environment["MODELPACK_REQUIRE_SCALE"] == "1" }
    static var enabled: Bool {
        required || (ServeTests.enabled && FileSystem.executableOnPath("java") != nil)
    }
    static let rowsScript = Golden.fixtures.appendingPathComponent("scale/rows.py").path
    static let runtime = RuntimeEmbeddingTests.runtime.path

    /// `executable` with `arguments` (a Python of the test's, usually).
    static func exec(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:]
    ) throws -> CLI.Result {
        try CLI.run(arguments, environment: environment, executable: executable)
    }

    /// `rows.py make`: `n` generated rows of the iris or churn example into `path`, row `bad` broken.
    static func makeRows(
        _ env: ServeCache.Prepared, _ kind: String, _ n: Int, _ path: String, bad: Int? = nil
    ) throws {
        let made = try exec(
            env.python, [rowsScript, "make", kind, String(n), path] + (bad.map { ["--bad", "\($0)"] } ?? []))
        try #require(made.status == 0, "\(made.stderr)")
    }

    /// `rows.py compare`: whether `output` holds the model's own predictions for every row of
    /// `rows`, each once, numbered 1...n.
    static func expectOwnPredictions(
        _ env: ServeCache.Prepared, _ rows: String, _ output: String, count: Int
    ) throws {
        let compared = try exec(env.python, [rowsScript, "compare", env.modelDirectory, rows, output])
        #expect(
            compared.stdout.contains("\"rows\": \(count), \"ids\": \"1..n\", \"differing\": 0"),
            "\(output): \(compared.stdout)\(compared.stderr)")
    }

    /// A bundle of `source` and its cached environment with `engine` added.
    static func prepared(_ source: String, _ dir: TempDir, engine: ServeCache.Engine) throws -> (
        bundle: String, env: ServeCache.Prepared
    ) {
        let bundle = dir.file(URL(fileURLWithPath: source).lastPathComponent + ".zip")
        _ = try Operations.build(BuildOptions(source: source, output: bundle, format: .zip), context: .test)
        let env = try ServeCache.prepare(bundle: bundle, context: .test)
        try ServeCache.addEngine(engine, to: env, log: { _ in })
        return (bundle, env)
    }

    static func example(_ name: String) -> String { ValidationTests.examples.appendingPathComponent(name).path }

    /// The last line of an engine run's stderr that says something of modelpack's.
    static func summary(_ stderr: String) -> String {
        stderr.split(separator: "\n").last { $0.hasPrefix("predicted ") || $0.hasPrefix("error: ") }.map(String.init)
            ?? String(stderr.suffix(2000))
    }

    /// Python's reader (what executors and actors unpack with) gives the digest and the files
    /// modelpack's own unpack gives, for every container modelpack writes.
    @Test(.enabled(if: ServeTests.enabled)) func thePythonReaderAgreesWithUnpack() throws {
        let dir = TempDir()
        let python = try #require(PythonCompiler.find())
        let hasZstd = PythonOracle.available(["zstandard"])
        for format in ContainerFormat.allCases {
            let bundle = dir.file("iris." + format.fileExtension)
            let built = try Operations.build(
                BuildOptions(source: Self.example("iris-sklearn"), output: bundle, format: format), context: .test)
            let result = try Self.exec(
                python, [Self.runtime + "/modelpack_bundle.py", "unpack", bundle, dir.file("py-" + format.rawValue)])
            if format == .tarZst && !hasZstd {
                #expect(result.status == 1 && result.stderr.contains("needs the zstandard package"), "\(result.stderr)")
                continue
            }
            try #require(result.status == 0, "\(format): \(result.stderr)")
            #expect(result.stdout == built.digest + "\n")
            _ = try Unpacker.unpack(bundle, to: dir.file("swift-" + format.rawValue), force: false, context: .test)
            let files = TempDir.files(under: dir.file("swift-" + format.rawValue))
            #expect(files == TempDir.files(under: dir.file("py-" + format.rawValue)))
            for file in files {
                #expect(
                    try Fixture.read(dir.file("py-\(format.rawValue)/\(file)"))
                        == (try Fixture.read(dir.file("swift-\(format.rawValue)/\(file)"))), "\(format): \(file)")
            }
        }
    }

    /// Over 100,000 generated rows, Spark and Ray predict what the model itself predicts, row for
    /// row, each row once, numbered 1...n in the input's order: iris from CSV, churn (categorical,
    /// int and float inputs; two outputs) from Parquet.
    @Test(
        .enabled(if: Self.enabled), .timeLimit(.minutes(20)),
        arguments: [ServeCache.Engine.spark, .ray])
    func predictionsEqualTheModelsOwn(engine: ServeCache.Engine) throws {
        let dir = TempDir()
        for (example, input) in [("iris-sklearn", "rows.csv"), ("churn-sklearn", "rows.parquet")] {
            let (bundle, env) = try Self.prepared(Self.example(example), dir, engine: engine)
            let rows = dir.file(example + "-" + input)
            let kind = String(example.prefix { $0 != "-" })
            try Self.makeRows(env, kind, 100_000, rows)
            let output = dir.file("\(example)-\(engine.rawValue).parquet")
            let run = try CLI.run(["predict", bundle, "--engine", engine.rawValue, "-i", rows, "-o", output])
            try #require(run.status == 0, "\(example) on \(engine): \(Self.summary(run.stderr))")
            #expect(Self.summary(run.stderr).hasPrefix("predicted 100000 rows (0 skipped) on \(engine.rawValue)"))
            let compared = try Self.exec(env.python, [Self.rowsScript, "compare", env.modelDirectory, rows, output])
            try #require(compared.status == 0, "\(compared.stderr)")
            let report = try #require(
                try JSONSerialization.jsonObject(with: Data(compared.stdout.utf8)) as? [String: Any])
            #expect(report["rows"] as? Int == 100_000, "\(example) on \(engine): \(compared.stdout)")
            #expect(report["ids"] as? String == "1..n", "\(example) on \(engine): \(compared.stdout)")
            #expect(report["differing"] as? Int == 0, "\(example) on \(engine): \(compared.stdout)")
            let columns = example == "iris-sklearn" ? ["prediction"] : ["churn", "probability"]
            #expect(report["columns"] as? [String] == columns)
            guard engine == .spark else { continue }
            // One-process predict writes Parquet too, once pyarrow is in the environment: the same
            // predictions, and the same ids (1..n) as the engines give, from CSV as from Parquet.
            let parquet = dir.file("\(example)-one.parquet")
            let local = try CLI.run(["predict", bundle, "-i", rows, "-o", parquet])
            try #require(local.status == 0, "\(Self.summary(local.stderr))")
            let same = try Self.exec(env.python, [Self.rowsScript, "compare", env.modelDirectory, rows, parquet])
            try #require(same.status == 0, "\(same.stderr)")
            let sameReport = try #require(
                try JSONSerialization.jsonObject(with: Data(same.stdout.utf8)) as? [String: Any])
            #expect(sameReport["ids"] as? String == "1..n", "one process, \(example): \(same.stdout)")
            #expect(sameReport["differing"] as? Int == 0, "one process, \(example): \(same.stdout)")
            guard input.hasSuffix(".parquet") else { continue }
            // One-process predict reads Parquet too, once pyarrow is in the environment.
            let jsonl = dir.file("\(example)-one.jsonl")
            let one = try CLI.run(["predict", bundle, "-i", rows, "-o", jsonl])
            try #require(one.status == 0, "\(Self.summary(one.stderr))")
            try Self.expectOwnPredictions(env, rows, jsonl, count: 100_000)
        }
    }

    /// A row that does not fit the inputs fails the job with its row number and writes nothing;
    /// with --skip-invalid it is left out and counted.
    @Test(
        .enabled(if: Self.enabled), .timeLimit(.minutes(10)),
        arguments: [ServeCache.Engine.spark, .ray])
    func aBadRowIsReportedWithItsPosition(engine: ServeCache.Engine) throws {
        let dir = TempDir()
        let (bundle, env) = try Self.prepared(Self.example("iris-sklearn"), dir, engine: engine)
        let rows = dir.file("bad.csv")
        try Self.makeRows(env, "iris", 100_000, rows, bad: 51234)
        let output = dir.file("out.parquet")
        let failed = try CLI.run(["predict", bundle, "--engine", engine.rawValue, "-i", rows, "-o", output])
        #expect(failed.status == 1)
        #expect(
            Self.summary(failed.stderr) == "error: \(rows): row 51234: input 'sepal_length' 'abc' is not a number",
            "\(Self.summary(failed.stderr))")
        #expect(TempDir.listing(dir.path).filter { $0.hasPrefix("out.parquet") }.isEmpty, "nothing may be left")
        let skipped = try CLI.run([
            "predict", bundle, "--engine", engine.rawValue, "-i", rows, "-o", output, "--skip-invalid",
        ])
        #expect(skipped.status == 0, "\(Self.summary(skipped.stderr))")
        #expect(Self.summary(skipped.stderr).hasPrefix("predicted 99999 rows (1 skipped)"))
        #expect(skipped.stderr.contains("warning: \(rows): row 51234: input 'sepal_length'"))
    }

    /// The Python API in a user's own job (Fixtures/scale/api.py): spark_udf called with the
    /// columns by input name and positionally, ray_predictor in map_batches; a bad row fails with
    /// where it is, or is a null (Spark) or left out (Ray) with skip_invalid.
    @Test(
        .enabled(if: Self.enabled), .timeLimit(.minutes(10)),
        arguments: [ServeCache.Engine.spark, .ray])
    func thePythonAPIRunsInAUsersOwnJob(engine: ServeCache.Engine) throws {
        let dir = TempDir()
        let (bundle, env) = try Self.prepared(Self.example("iris-sklearn"), dir, engine: engine)
        let script = Golden.fixtures.appendingPathComponent("scale/api.py").path
        let run = try Self.exec(env.python, [script, engine.rawValue, Self.runtime, bundle, env.modelDirectory])
        try #require(run.status == 0, "\(run.stderr.suffix(3000))")
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data((run.stdout.split(separator: "\n").last ?? "").utf8))
                as? [String: Any], "\(run.stdout)")
        #expect(report["rows"] as? Int == 20000 && report["differing"] as? Int == 0, "\(report)")
        let bad = report["bad"] as? String ?? ""
        if engine == .spark {
            #expect(bad.hasPrefix("iris-sklearn.zip: row ") && bad.contains(" of partition "), "\(bad)")
            #expect(bad.hasSuffix(": input 'sepal_length' must be a finite number"), "\(bad)")
            #expect(report["nulls"] as? [Int] == [777], "\(report)")
            // The bundle given as a URL (file://, through Spark's addFile as hdfs:// would be).
            #expect(report["url_rows"] as? Int == 20000 && report["url_differing"] as? Int == 0, "\(report)")
        } else {
            #expect(
                bad == "iris-sklearn.zip: row 778 of a batch: input 'sepal_length' must be a number, found a string")
            #expect(report["nulls"] as? Int == 1, "\(report)")
        }
    }

    /// A Python worker that dies mid-task (once) fails the job when Spark may not retry, and with
    /// retries (local[2,3]) the job completes with every row exactly once.
    @Test(.enabled(if: Self.enabled), .timeLimit(.minutes(10)))
    func aKilledSparkTaskIsRetriedWithoutDuplicates() throws {
        let dir = TempDir()
        let source = Golden.fixtures.appendingPathComponent("scale/flaky").path
        let (bundle, env) = try Self.prepared(source, dir, engine: .spark)
        try Fixture.write(Array(("x\n" + (1...20_000).map { "\($0).0\n" }.joined()).utf8), to: dir.file("x.csv"))
        let marker = ["MODELPACK_TEST_FLAKY_MARKER": dir.file("died")]
        let output = dir.file("out.parquet")
        let once = try CLI.run(
            ["predict", bundle, "--engine", "spark", "--master", "local[2]", "-i", dir.file("x.csv"), "-o", output],
            environment: marker)
        #expect(once.status == 1 && Self.summary(once.stderr).hasPrefix("error: the spark job failed"))
        #expect(FileSystem.exists(dir.file("died")) && !FileSystem.exists(output))
        try FileManager.default.removeItem(atPath: dir.file("died"))
        let retried = try CLI.run(
            ["predict", bundle, "--engine", "spark", "--master", "local[2,3]", "-i", dir.file("x.csv"), "-o", output],
            environment: marker)
        #expect(retried.status == 0, "\(Self.summary(retried.stderr))")
        #expect(FileSystem.exists(dir.file("died")), "the worker did die once")
        let check = try Self.exec(
            env.python,
            [
                "-c",
                """
                import pandas as pd, sys
                d = pd.read_parquet(sys.argv[1])
                print(len(d), d["id"].is_unique, sorted(d["id"]) == list(range(1, 20001)), bool((d["prediction"] == d["id"] * 2.0).all()))
                """, output,
            ])
        #expect(check.stdout == "20000 True True True\n", "\(check.stdout)\(check.stderr)")
    }

    /// A service of the test's own (a Spark master or worker, a Ray head). Foundation starts a
    /// child as the leader of a process group of its own, so stopping the group by PID stops what
    /// it started too (Ray's raylet and GCS server).
    final class Service {
        let process = Process()

        init(_ arguments: [String], log: String, environment: [String: String] = [:]) throws {
            process.executableURL = URL(fileURLWithPath: arguments[0])
            process.arguments = Array(arguments.dropFirst())
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
            #expect(getpgid(process.processIdentifier) == process.processIdentifier, "a group of its own")
        }

        /// SIGTERM to the group, SIGKILL after 5 s.
        func stop() {
            let group = -process.processIdentifier
            kill(group, SIGTERM)
            for _ in 0..<100 where kill(group, 0) == 0 { usleep(50_000) }
            kill(group, SIGKILL)
            while process.isRunning { usleep(10_000) }
        }
    }

    /// On a Spark standalone cluster (a master and a worker started here on 127.0.0.1 from the
    /// model environment's pyspark), the executors get the model's environment as a venv-pack
    /// archive through spark.archives; with --conf spark.pyspark.python naming a bare Python
    /// instead, the same job fails (the negative control: the archive is what carries the model).
    @Test(.enabled(if: Self.enabled), .timeLimit(.minutes(10)))
    func aSparkClusterGetsTheModelsEnvironment() throws {
        let dir = TempDir()
        let (bundle, env) = try Self.prepared(Self.example("iris-sklearn"), dir, engine: .spark)
        let rows = dir.file("rows.csv")
        try Self.makeRows(env, "iris", 20000, rows)
        let sparkHome = try Self.exec(
            env.python, ["-c", "import pyspark, os; print(os.path.dirname(pyspark.__file__))"]
        )
        .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let (port, ui, workerUI) = (
            try TestRegistry.freePort(), try TestRegistry.freePort(), try TestRegistry.freePort()
        )
        let local = ["SPARK_HOME": sparkHome, "SPARK_LOCAL_IP": "127.0.0.1"]
        let master = try Service(
            [
                sparkHome + "/bin/spark-class", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                "--port", "\(port)", "--webui-port", "\(ui)",
            ], log: dir.file("master.log"), environment: local)
        defer { master.stop() }
        try TestRegistry.waitForPort(port, seconds: 60)
        let worker = try Service(
            [
                sparkHome + "/bin/spark-class", "org.apache.spark.deploy.worker.Worker", "spark://127.0.0.1:\(port)",
                "--host", "127.0.0.1", "--cores", "2", "--memory", "2G", "--webui-port", "\(workerUI)",
                "--work-dir", dir.file("work"),
            ], log: dir.file("worker.log"), environment: local)
        defer { worker.stop() }
        let output = dir.file("out.parquet")
        let run = try CLI.run([
            "predict", bundle, "--engine", "spark", "--master", "spark://127.0.0.1:\(port)", "-i", rows, "-o", output,
        ])
        try #require(run.status == 0, "\(Self.summary(run.stderr))")
        try Self.expectOwnPredictions(env, rows, output, count: 20000)
        let apps = TempDir.listing(dir.file("work"))
        #expect(
            apps.count == 1 && FileSystem.exists(dir.file("work/\(apps.first ?? "")/0/modelpack-env/bin/python")),
            "the executor unpacked the archive: \(apps)")
        let bare = dir.file("bare")
        try #require(try Self.exec(try #require(PythonCompiler.find()), ["-m", "venv", bare]).status == 0)
        let without = try CLI.run([
            "predict", bundle, "--engine", "spark", "--master", "spark://127.0.0.1:\(port)", "-i", rows,
            "-o", dir.file("bare.parquet"), "--conf", "spark.pyspark.python=\(bare)/bin/python",
        ])
        #expect(without.status == 1 && Self.summary(without.stderr).hasPrefix("error: the spark job failed"))
        #expect(without.stderr.contains("No module named"), "\(Self.summary(without.stderr))")
    }

    /// On a Ray cluster (a head started here on 127.0.0.1 from a Python with only ray, no
    /// scikit-learn), the workers get the model's requirements through runtime_env's pip.
    @Test(.enabled(if: Self.enabled), .timeLimit(.minutes(10)))
    func aRayClusterGetsTheModelsRequirements() throws {
        let dir = TempDir()
        let (bundle, env) = try Self.prepared(Self.example("iris-sklearn"), dir, engine: .ray)
        let rows = dir.file("rows.csv")
        try Self.makeRows(env, "iris", 20000, rows)
        let cluster = dir.file("cluster")
        let python = try #require(PythonCompiler.find())
        try #require(try Self.exec(python, ["-m", "venv", cluster]).status == 0)
        let ray = try Self.exec(
            cluster + "/bin/python",
            ["-m", "pip", "install", "-q", "--disable-pip-version-check", "ray[data]==2.60.0", "virtualenv"])
        try #require(ray.status == 0, "\(ray.stderr)")
        #expect(try Self.exec(cluster + "/bin/python", ["-c", "import sklearn"]).status != 0, "the cluster lacks it")
        let port = try TestRegistry.freePort()
        // Token authentication (Ray's default), with a token of the test's own for head and driver.
        let token = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        let auth = ["RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": token]
        let temp = "/tmp/mp-ray-\(UInt32.random(in: 0...UInt32.max))"  // Ray's sockets: 107 bytes at most
        let head = try Service(
            [
                cluster + "/bin/ray", "start", "--head", "--block", "--port", "\(port)", "--node-ip-address",
                "127.0.0.1",
                "--num-cpus", "2", "--include-dashboard", "false", "--disable-usage-stats",
                "--temp-dir", temp,
            ], log: dir.file("head.log"), environment: auth)
        defer {
            head.stop()
            try? FileManager.default.removeItem(atPath: temp)
        }
        try TestRegistry.waitForPort(port, seconds: 60)
        let output = dir.file("out.parquet")
        var run = try CLI.run(["--version"])
        for _ in 0..<3 {  // the head answers on its port a moment before it takes jobs
            run = try CLI.run(
                ["predict", bundle, "--engine", "ray", "--address", "127.0.0.1:\(port)", "-i", rows, "-o", output],
                environment: auth)
            if run.status == 0 || !run.stderr.contains("Failed to connect") { break }
            sleep(3)
        }
        try #require(run.status == 0, "\(Self.summary(run.stderr))")
        try Self.expectOwnPredictions(env, rows, output, count: 20000)
    }

    /// --engine-version puts the cluster's version in place of the runtime's pin, through pip: a
    /// version the package index lacks is one error naming it, and the environment keeps the
    /// engine it had (the next run installs nothing).
    @Test(.enabled(if: Self.enabled), .timeLimit(.minutes(10)))
    func anEngineVersionIsInstalledByPipOrNamedInTheError() throws {
        let dir = TempDir()
        let (bundle, env) = try Self.prepared(Self.example("iris-sklearn"), dir, engine: .ray)
        let rows = dir.file("rows.csv")
        try Self.makeRows(env, "iris", 1000, rows)
        let output = dir.file("out.parquet")
        let missing = try CLI.run([
            "predict", bundle, "--engine", "ray", "--engine-version", "99.0.0", "-i", rows, "-o", output,
        ])
        #expect(missing.status == 2, "the flag's version does not exist: a usage error")
        #expect(
            Self.summary(missing.stderr).contains(
                "--engine-version 99.0.0: ray[data]==99.0.0: no such version on the package index"),
            "\(missing.stderr.suffix(2000))")
        #expect(!FileManager.default.fileExists(atPath: output))
        // The runtime's own version, named: the marker says it is there, so pip does not run.
        let pinned = try CLI.run([
            "predict", bundle, "--engine", "ray", "--engine-version", "2.60.0", "-i", rows, "-o", output,
        ])
        #expect(pinned.status == 0, "\(Self.summary(pinned.stderr))")
        #expect(!pinned.stderr.contains("adding ray"), "\(pinned.stderr.suffix(2000))")
        try Self.expectOwnPredictions(env, rows, output, count: 1000)
    }

    /// What --engine takes is checked before anything runs.
    @Test func engineArgumentsAreCheckedFirst() throws {
        let dir = TempDir()
        try Fixture.write(Array("x\n1\n".utf8), to: dir.file("rows.csv"))
        try Fixture.write(Array("{}\n".utf8), to: dir.file("rows.jsonl"))
        try FileManager.default.createDirectory(atPath: dir.file("taken.parquet"), withIntermediateDirectories: true)
        let cases: [([String], String)] = [
            (
                ["--engine", "spark", "-i", dir.file("rows.jsonl"), "-o", dir.file("o.parquet")],
                "reads .csv or .parquet"
            ),
            (["--engine", "ray", "-i", dir.file("rows.csv")], "give -o OUT.parquet or -o OUT.csv"),
            (["--engine", "ray", "-i", dir.file("rows.csv"), "-o", dir.file("o.jsonl")], "give -o OUT.parquet"),
            (["--engine", "spark", "-i", dir.file("rows.csv"), "-o", dir.file("taken.parquet")], "already exists"),
            (["--master", "local[2]", "-i", dir.file("rows.csv")], "--master goes with --engine spark"),
            (
                ["--engine", "spark", "--address", "auto", "-i", dir.file("rows.csv")],
                "--address goes with --engine ray"
            ),
            (["--engine-version", "3.5.3", "-i", dir.file("rows.csv")], "--engine-version goes with --engine"),
            (
                ["--engine", "spark", "--engine-version", "3.5; rm -rf /", "-i", dir.file("rows.csv")],
                "--engine-version '3.5; rm -rf /' is not a version of pyspark"
            ),
            (
                ["--engine", "ray", "--engine-version", ">=2.0", "-i", dir.file("rows.csv")],
                "is not a version of ray[data]"
            ),
        ]
        for (arguments, message) in cases {
            let result = try CLI.run(["predict", dir.file("absent.zip")] + arguments)
            #expect(result.status != 0 && result.stderr.contains(message), "\(arguments): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        }
    }
}
