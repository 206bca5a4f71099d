import Foundation
import Testing

@testable import ModelPackCore

/// `modelpack predict` on the iris example, in serve's real cached virtualenv (the same gate as
/// ServeTests: MODELPACK_REQUIRE_SERVE=1 in CI).
@Suite(.serialized) struct PredictTests {
    static func bundle(_ dir: TempDir) throws -> String {
        let bundle = dir.file("iris.zip")
        _ = try Operations.build(
            BuildOptions(
                source: ValidationTests.examples.appendingPathComponent("iris-sklearn").path, output: bundle,
                format: .zip), context: .test)
        return bundle
    }

    /// Rows with a fixed generator: (sepal_length, sepal_width, petal_length, petal_width).
    static func rows(_ n: Int) -> [[Double]] {
        var state: UInt64 = 12345
        func next(_ low: Double, _ high: Double) -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let unit = Double(state >> 11) / Double(1 << 53)
            return (low + unit * (high - low) * 10).rounded() / 10
        }
        return (0..<n).map { _ in [next(4, 8), next(2, 4.5), next(1, 7), next(0.1, 2.5)] }
    }

    static let names = ["sepal_length", "sepal_width", "petal_length", "petal_width"]

    static func predictions(_ jsonl: String) throws -> [(id: Int, prediction: String)] {
        try jsonl.split(separator: "\n").map { line in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return (try #require(object["id"] as? Int), try #require(object["prediction"] as? String))
        }
    }

    /// CSV, JSON Lines and a JSON array give, row for row, what the model itself predicts for the
    /// same rows (its predict called directly with joblib in the same virtualenv).
    @Test(.enabled(if: ServeTests.enabled), .timeLimit(.minutes(10)))
    func predictionsEqualTheModelsOwn() throws {
        let dir = TempDir()
        let bundle = try Self.bundle(dir)
        let rows = Self.rows(5000)
        var csv = Self.names.joined(separator: ",") + "\n"
        var jsonl = ""
        for r in rows {
            csv += r.map { String($0) }.joined(separator: ",") + "\n"
            jsonl += "{" + zip(Self.names, r).map { "\"\($0)\": \($1)" }.joined(separator: ", ") + "}\n"
        }
        let array = "[\n" + jsonl.split(separator: "\n").joined(separator: ",\n") + "\n]\n"
        try Fixture.write(Array(csv.utf8), to: dir.file("rows.csv"))
        try Fixture.write(Array(jsonl.utf8), to: dir.file("rows.jsonl"))
        try Fixture.write(Array(array.utf8), to: dir.file("rows.json"))
        var outputs: [String: [(id: Int, prediction: String)]] = [:]
        for name in ["rows.csv", "rows.jsonl", "rows.json"] {
            let result = try CLI.run(
                ["predict", bundle, "-i", dir.file(name), "-o", dir.file(name + ".out.jsonl"), "--batch-size", "700"])
            try #require(result.status == 0, "\(name): \(result.stderr)")
            #expect(result.stderr.contains("predicted 5000 rows (0 skipped)"), "\(result.stderr)")
            outputs[name] = try Self.predictions(
                try String(contentsOfFile: dir.file(name + ".out.jsonl"), encoding: .utf8))
        }
        // ids: each row's number, 1 for the first, whatever the format (as on Spark and Ray).
        for name in ["rows.csv", "rows.jsonl", "rows.json"] {
            #expect(outputs[name]!.map(\.id) == Array(1...5000), "\(name)")
        }
        // The plan predict execs holds its bundle's and its environment's cache entries in use
        // (the runner inherits the locks), so a prune meanwhile passes them by.
        let plan = try Operations.predict(
            PredictOptions(bundle: bundle, input: dir.file("rows.csv"), output: dir.file("plan.jsonl")), context: .test)
        let prepared = plan.prepared
        let inUse = try CacheStore.entries(areas: [.serve, .envs]).filter(\.inUse).map(\.path)
        #expect(inUse.contains(prepared.root) && inUse.contains(prepared.environment), "\(inUse)")
        let script = dir.file("own.py")
        try Fixture.write(
            Array(
                """
                import csv, importlib.util, json, sys
                sys.path.insert(0, sys.argv[1])
                spec = importlib.util.spec_from_file_location("interface", sys.argv[1] + "/interface.py")
                interface = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(interface)
                model = interface.load_model()
                rows = [{k: float(v) for k, v in r.items()} for r in csv.DictReader(open(sys.argv[2]))]
                # A hand-written loop: one row at a time through the model's own predict.
                print(json.dumps([str(model.predict([row])[0]) for row in rows]))
                """.utf8), to: script)
        let own = Process()
        own.executableURL = URL(fileURLWithPath: prepared.python)
        own.arguments = [script, prepared.modelDirectory, dir.file("rows.csv")]
        let pipe = Pipe()
        own.standardOutput = pipe
        try own.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        own.waitUntilExit()
        let expected = try #require(try JSONSerialization.jsonObject(with: data) as? [String])
        #expect(expected.count == 5000)
        for (name, got) in outputs {
            let differing = zip(got.map(\.prediction), expected).filter { $0 != $1 }.count
            #expect(
                got.count == expected.count && differing == 0, "\(name): \(differing) rows differ from the model's own")
        }
        // CSV out, with an id column taken from the rows.
        let ided = "id," + Self.names.joined(separator: ",") + "\nflower-a,5.1,3.5,1.4,0.2\nflower-b,6.7,3.0,5.2,2.3\n"
        try Fixture.write(Array(ided.utf8), to: dir.file("ided.csv"))
        let table = try CLI.run([
            "predict", bundle, "-i", dir.file("ided.csv"), "-o", dir.file("out.csv"), "--id-column", "id",
        ])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(
            try String(contentsOfFile: dir.file("out.csv"), encoding: .utf8)
                == "id,prediction\r\nflower-a,setosa\r\nflower-b,virginica\r\n")
    }

    /// Predictions on stdout into a reader that stops early (`| head -1`): the run ends quietly,
    /// as a Unix filter does (SIGPIPE), with no traceback.
    @Test(.enabled(if: ServeTests.enabled), .timeLimit(.minutes(10)))
    func aReaderThatStopsEarlyEndsTheRunQuietly() throws {
        let dir = TempDir()
        let bundle = try Self.bundle(dir)
        let csv =
            Self.names.joined(separator: ",") + "\n"
            + Self.rows(50_000).map { $0.map { String($0) }.joined(separator: ",") }.joined(separator: "\n") + "\n"
        try Fixture.write(Array(csv.utf8), to: dir.file("rows.csv"))
        // The environment is made first, so the run below only predicts.
        #expect(try CLI.run(["predict", bundle, "-i", dir.file("rows.csv"), "-o", dir.file("all.jsonl")]).status == 0)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = ["predict", bundle, "-i", dir.file("rows.csv")]
        let out = Pipe()
        process.standardOutput = out
        let errPath = dir.file("stderr.txt")
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        try process.run()
        let first = out.fileHandleForReading.readData(ofLength: 200)
        try out.fileHandleForReading.close()
        process.waitUntilExit()
        #expect(String(decoding: first, as: UTF8.self).hasPrefix(#"{"id": 1, "prediction": "#), "\(first)")
        let stderr = try String(contentsOfFile: errPath, encoding: .utf8)
        #expect(!stderr.contains("Traceback") && !stderr.contains("BrokenPipe"), "\(stderr)")
        #expect(
            process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGPIPE,
            "\(process.terminationReason) \(process.terminationStatus): \(stderr)")
    }

    /// A bad row fails the run with its line number and writes nothing; --skip-invalid leaves it
    /// out with a warning naming the line.
    @Test(.enabled(if: ServeTests.enabled), .timeLimit(.minutes(10)))
    func badRowsAreNamedByLine() throws {
        let dir = TempDir()
        let bundle = try Self.bundle(dir)
        try Fixture.write(
            Array(
                """
                {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}

                {"sepal_length": "wide", "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}
                {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4}
                not json
                {"sepal_length": 6.7, "sepal_width": 3.0, "petal_length": 5.2, "petal_width": 2.3, "colour": "blue"}
                [6.7, 3.0, 5.2, 2.3]

                """.utf8), to: dir.file("rows.jsonl"))
        let failed = try CLI.run(["predict", bundle, "-i", dir.file("rows.jsonl"), "-o", dir.file("out.jsonl")])
        #expect(failed.status == 1)
        #expect(
            failed.stderr.contains(
                "error: \(dir.file("rows.jsonl")):3: input 'sepal_length' must be a number, found a string"),
            "\(failed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("out.jsonl")))
        #expect(!dir.contents().contains { $0.contains("modelpack-tmp") })
        let skipped = try CLI.run([
            "predict", bundle, "-i", dir.file("rows.jsonl"), "-o", dir.file("out.jsonl"), "--skip-invalid",
        ])
        #expect(skipped.status == 0, "\(skipped.stderr)")
        for line in [3, 4, 5, 6] {
            #expect(skipped.stderr.contains("rows.jsonl:\(line): "), "line \(line): \(skipped.stderr)")
        }
        #expect(
            skipped.stderr.contains("'petal_width' is missing") && skipped.stderr.contains("'colour' is not an input"))
        #expect(skipped.stderr.contains("predicted 2 rows (4 skipped)"))
        let kept = try Self.predictions(try String(contentsOfFile: dir.file("out.jsonl"), encoding: .utf8))
        // ids number the rows (the blank line is none); the warnings above named their lines.
        #expect(kept.map(\.id) == [1, 6] && kept.map(\.prediction) == ["setosa", "virginica"])
        // A CSV cell that is not a number is named with its line.
        try Fixture.write(
            Array("sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\nx,3,1,1\n".utf8),
            to: dir.file("bad.csv"))
        let csv = try CLI.run(["predict", bundle, "-i", dir.file("bad.csv")])
        #expect(csv.status == 1 && csv.stderr.contains("bad.csv:3: input 'sepal_length' 'x' is not a number"))
    }

    /// Two predicts of one bundle started together on an empty cache: one unpacks it and makes the
    /// virtualenv while the other waits on the entry's lock, and both then predict in that one
    /// environment (unlocked, the two pip installs raced in one directory and one failed in CI).
    /// Then the model's code is edited (a new bundle digest): its predict unpacks the new bundle and
    /// reuses the environment, which is keyed by the Python and the requirements, not the digest
    /// (keyed by digest, a one-line edit of interface.py cost a fresh 33 s, 955 MB virtualenv).
    @Test(.enabled(if: ServeTests.enabled), .timeLimit(.minutes(10)))
    func oneEnvironmentServesConcurrentRunsAndEditedCode() throws {
        let dir = TempDir()
        let bundle = try Self.bundle(dir)
        try Fixture.write(
            Array("sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n".utf8),
            to: dir.file("rows.csv"))
        let environment = ["MODELPACK_CACHE": dir.file("cache")]
        let results = Locked<[Int: CLI.Result]>([:])
        let rows = dir.file("rows.csv")
        let outputs = [dir.file("out0.jsonl"), dir.file("out1.jsonl")]
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            let result = try? CLI.run(
                ["predict", bundle, "-i", rows, "-o", outputs[i]], environment: environment)
            results.withLock { $0[i] = result }
        }
        let both = results.withLock { $0 }
        for i in 0..<2 {
            let result = try #require(both[i])
            #expect(result.status == 0, "\(i): \(result.stderr)")
            #expect(
                try Self.predictions(String(contentsOfFile: outputs[i], encoding: .utf8)).map(\.prediction) == [
                    "setosa"
                ])
        }
        let stderr = both.values.map(\.stderr)
        #expect(stderr.filter { $0.contains("creating a virtualenv") }.count == 1, "\(stderr)")
        #expect(stderr.contains { $0.contains("waiting for another modelpack preparing") }, "\(stderr)")

        let edited = dir.file("edited")
        try FileManager.default.copyItem(
            atPath: ValidationTests.examples.appendingPathComponent("iris-sklearn").path, toPath: edited)
        let interface = edited + "/interface.py"
        try Fixture.write(Fixture.read(interface) + Array("\n# an edit of the code only\n".utf8), to: interface)
        _ = try Operations.build(
            BuildOptions(source: edited, output: dir.file("edited.zip"), format: .zip), context: .test)
        let again = try CLI.run(
            ["predict", dir.file("edited.zip"), "-i", rows, "-o", dir.file("out2.jsonl")], environment: environment)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(
            again.stderr.contains("unpacking") && !again.stderr.contains("creating a virtualenv"), "\(again.stderr)")
        let listing = try CLI.run(["cache", "list", "--format", "json"], environment: environment)
        let entries = try #require(
            (try JSONSerialization.jsonObject(with: Data(listing.stdout.utf8)) as? [String: Any])?["entries"]
                as? [[String: Any]])
        #expect(entries.filter { $0["area"] as? String == "serve" }.count == 2, "\(listing.stdout)")
        let environments = entries.filter { $0["area"] as? String == "envs" }
        #expect(environments.count == 1, "\(listing.stdout)")
        let about = environments.first?["about"] as? String
        #expect(about?.hasPrefix("Python 3.") == true, "\(listing.stdout)")
        // Nothing is in use once the predicts have exited.
        #expect(entries.allSatisfy { $0["inUse"] as? Bool == false }, "\(listing.stdout)")
    }

    /// Usage and input errors before any environment is made.
    @Test func inputsAreCheckedFirst() throws {
        let dir = TempDir()
        try Fixture.write([], to: dir.file("rows.txt"))
        let format = try CLI.run(["predict", dir.file("b.zip"), "-i", dir.file("rows.txt")])
        #expect(format.status == 2 && format.stderr.contains("cannot tell the rows' format"), "\(format.stderr)")
        let absent = try CLI.run(["predict", dir.file("b.zip"), "-i", dir.file("none.csv")])
        #expect(absent.status == 1 && absent.stderr.contains("none.csv: no such file or directory"))
        try Fixture.write([], to: dir.file("rows.csv"))
        let noDir = try CLI.run(["predict", dir.file("b.zip"), "-i", dir.file("rows.csv"), "-o", dir.file("x/y.csv")])
        #expect(noDir.status == 3 && noDir.stderr.contains("the output's directory does not exist"))
        // An output whose format its name does not tell: a usage error, nothing written.
        let unknown = try CLI.run(["predict", dir.file("b.zip"), "-i", dir.file("rows.csv"), "-o", dir.file("out.txt")])
        #expect(unknown.status == 2 && unknown.stderr.contains("cannot tell the predictions' format"), "\(unknown)")
        #expect(!FileSystem.exists(dir.file("out.txt")))
    }
}
