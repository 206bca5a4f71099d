import Foundation
import Testing

@testable import ModelPackCore

/// `modelpack test` on the iris example and on broken copies of it, in serve's real cached
/// virtualenv (the copies keep iris's requirements, so they share its environment).
@Suite(.serialized) struct TestCommandTests {
    /// A copy of the iris example with `edit` applied to one of its files.
    static func iris(_ dir: TempDir, _ name: String, file: String? = nil, edit: (String) -> String = { $0 }) throws
        -> String
    {
        let copy = dir.file(name)
        try FileManager.default.copyItem(
            atPath: ValidationTests.examples.appendingPathComponent("iris-sklearn").path, toPath: copy)
        if let file {
            let path = copy + "/" + file
            try Fixture.write(Array(edit(try String(contentsOfFile: path, encoding: .utf8)).utf8), to: path)
        }
        return copy
    }

    @Test(.enabled(if: ServeTests.enabled), .timeLimit(.minutes(10)))
    func aGoodModelPassesWithItsFiguresAndABrokenOneFails() throws {
        let dir = TempDir()
        let good = try Self.iris(dir, "good", file: "metadata.yaml") {
            $0 + "example_outputs: [setosa, virginica]\n"
        }
        let passed = try CLI.run(["test", good])
        #expect(passed.status == 0, "\(passed.stdout) \(passed.stderr)")
        for line in [
            "iris-classifier 1.0.0", "load_model():", "2 examples predicted: [\"setosa\", \"virginica\"]",
            "per-row latency: median", "peak memory:", "passed",
        ] {
            #expect(passed.stdout.contains(line), "\(line): \(passed.stdout)")
        }
        // A bundle, as JSON.
        let bundle = dir.file("good.zip")
        _ = try Operations.build(BuildOptions(source: good, output: bundle, format: .zip), context: .test)
        let json = try CLI.run(["test", bundle, "--json", "--repeat", "2"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(json.status == 0 && (report["failures"] as? [String])?.isEmpty == true, "\(json.stdout)")
        #expect((report["row_latency_ms"] as? [String: Any])?["runs"] as? Int == 4)

        // What the model prints (from Python or from C, at load and in predict) goes to stderr:
        // stdout stays the report's, in either format.
        let chatty = try Self.iris(dir, "chatty", file: "interface.py") {
            $0.replacingOccurrences(
                of: "def load_model():\n",
                with: "def load_model():\n    print(\"loading\")\n    import os\n    os.write(1, b\"from C\\n\")\n"
            )
            .replacingOccurrences(
                of: "    def predict(self, rows):\n",
                with: "    def predict(self, rows):\n        print(\"rows\", len(rows))\n")
        }
        // Without PYTHONUNBUFFERED (set empty: unset for Python), as a user's shell runs it.
        let chattyJSON = try CLI.run(
            ["test", chatty, "--format", "json", "--repeat", "1"], environment: ["PYTHONUNBUFFERED": ""])
        let chattyReport = try JSONSerialization.jsonObject(with: Data(chattyJSON.stdout.utf8)) as? [String: Any]
        #expect(
            chattyJSON.status == 0 && chattyReport?["schema"] as? String == "modelpack.test/1", "\(chattyJSON.stdout)")
        #expect(
            chattyJSON.stderr.contains("loading\nfrom C\n") && chattyJSON.stderr.contains("rows 2"),
            "\(chattyJSON.stderr)")
        let chattyText = try CLI.run(["test", chatty, "--repeat", "1"])
        #expect(
            chattyText.status == 0 && chattyText.stdout.hasPrefix("iris-classifier 1.0.0\n"), "\(chattyText.stdout)")
        #expect(!chattyText.stdout.contains("loading"), "\(chattyText.stdout)")
        #expect(try CLI.run(["test", chatty, "--format", "sarif"]).status == 2, "test's report is not findings")

        let wrong = try Self.iris(dir, "wrong", file: "metadata.yaml") {
            $0 + "example_outputs: [setosa, setosa]\n"
        }
        let mismatch = try CLI.run(["test", wrong])
        #expect(mismatch.status == 1, "\(mismatch.stdout)")
        #expect(mismatch.stdout.contains(#"FAILED: example 1: predicted "virginica", example_outputs says "setosa""#))

        // A model that cannot load: its import fails only when Python runs it, which no check sees.
        let broken = try Self.iris(dir, "broken", file: "interface.py") {
            $0.replacingOccurrences(of: "import joblib", with: "import joblib\nfrom sklearn import no_such_thing")
        }
        let validate = try CLI.run(["validate", broken])
        #expect(validate.status == 0, "validate sees no problem: \(validate.stdout) \(validate.stderr)")
        let failed = try CLI.run(["test", broken])
        #expect(failed.status == 1, "\(failed.stdout)")
        #expect(failed.stdout.contains("FAILED: load_model() failed: ImportError"), "\(failed.stdout)")
        #expect(failed.stderr.contains("Traceback"), "the traceback goes to stderr")
    }

    /// Checked before anything runs: a missing model, a bad --repeat, a model the checks refuse.
    @Test func badArgumentsAndRefusedModelsStopFirst() throws {
        let dir = TempDir()
        let missing = try CLI.run(["test", dir.file("none")])
        #expect(missing.status == 1 && missing.stderr.contains("none: no such file or directory"))
        let repeats = try CLI.run(["test", dir.file("none"), "--repeat", "0"])
        #expect(repeats.status == 2 && repeats.stderr.contains("--repeat must be between 1 and 10000"))
        let refused = try Self.iris(dir, "refused", file: "metadata.yaml") { $0 + "example_outputs: [setosa]\n" }
        let result = try CLI.run(["test", refused])
        #expect(result.status == 1 && result.stderr.contains("MP111"), "\(result.stderr)")
        #expect(result.stderr.contains("'example_outputs' has 1 predictions for 2 example rows"), "\(result.stderr)")
        let typed = try Self.iris(dir, "typed", file: "metadata.yaml") { $0 + "example_outputs: [setosa, tulip]\n" }
        let refusedType = try CLI.run(["validate", typed])
        #expect(
            refusedType.status == 1
                && refusedType.stdout.contains("example output for 'species' 'tulip' is not one of"),
            "\(refusedType.stdout)")
    }

    /// A pin that does not exist (numpy==9.9.9): pip's refusal is the model's problem (exit 1)
    /// in one line naming the model, the line of requirements.txt and what the index has; never
    /// the virtualenv being made, and none is left half-made in the cache.
    @Test(.enabled(if: ServeTests.enabled), .timeLimit(.minutes(10)))
    func aPinThatDoesNotExistNamesItsLine() throws {
        let dir = TempDir()
        let model = try Self.iris(dir, "nine", file: "requirements.txt") {
            $0.replacingOccurrences(of: "numpy==2.4.6", with: "numpy==9.9.9")
        }
        let run = try CLI.run(["test", model])
        #expect(run.status == ExitStatus.problems, "\(run.stderr)")
        let last = run.stderr.split(separator: "\n").last.map(String.init) ?? ""
        #expect(
            last.hasPrefix("error: \(model): requirements.txt:4: numpy==9.9.9: no such version on the package index"),
            "\(last)")
        #expect(!last.contains("venv") && !last.contains("/envs/"), "\(last)")
        let envs = CacheDirectory.path() + "/envs"
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: envs)) ?? [] {
            let about = (try? String(contentsOfFile: envs + "/" + entry + "/about.txt", encoding: .utf8)) ?? ""
            #expect(
                !FileSystem.exists(envs + "/" + entry + "/venv") || !about.isEmpty,
                "a half-made environment stays in the cache: \(entry)")
        }
    }

    /// `validate --resolve` asks pip's resolver (nothing installed) for the model's Python on
    /// Linux x86_64: the same missing pin is MP701 at its line, for a directory and a bundle; the
    /// example resolves.
    @Test(.enabled(if: ServeTests.enabled), .timeLimit(.minutes(10)))
    func validateResolveFindsAPinThatDoesNotExist() throws {
        let dir = TempDir()
        let model = try Self.iris(dir, "nine", file: "requirements.txt") {
            $0.replacingOccurrences(of: "numpy==2.4.6", with: "numpy==9.9.9")
        }
        #expect(try CLI.run(["validate", model]).status == 0, "without --resolve, nothing asks pip")
        let bundle = dir.file("nine.tar")
        #expect(try CLI.run(["build", model, "-o", bundle]).status == 0)
        for target in [model, bundle] {
            let run = try CLI.run(["validate", target, "--resolve"])
            #expect(run.status == ExitStatus.problems, "\(run.stdout)\(run.stderr)")
            #expect(
                run.stdout.contains(
                    "requirements.txt:4:1: error[MP701]: numpy==9.9.9: no such version on the package index"),
                "\(run.stdout)")
            #expect(run.stdout.contains("for Python 3.11 on Linux x86_64"), "\(run.stdout)")
        }
        let good = try CLI.run([
            "validate", ValidationTests.examples.appendingPathComponent("iris-sklearn").path, "--resolve",
        ])
        #expect(good.status == 0, "\(good.stdout)\(good.stderr)")
    }

    /// `--resolve` never lets pip build anything: a requirement from a URL or a path is refused
    /// (MP701) before pip starts, since reading its metadata would run its build.
    @Test func resolvingNeverBuildsARequirement() throws {
        let tmp = TempDir()
        try Fixture.model(
            at: tmp.file("m"),
            extra: [
                "requirements.txt": Array("scikit-learn==1.9.1\ntool @ https://example.invalid/tool-1.0.tar.gz\n".utf8)
            ])
        let run = try CLI.run(["validate", tmp.file("m"), "--resolve"])
        #expect(run.status == ExitStatus.problems, "\(run)")
        #expect(
            run.stdout.contains(
                "requirements.txt:2:1: error[MP701]: a requirement installed from a URL or path cannot be resolved"),
            "\(run.stdout)")
        #expect(!run.stderr.contains("asking pip"), "pip never started: \(run.stderr)")
    }

    /// What pip printed, read: a missing version, a conflict, a failed build, an index not reached.
    @Test func pipsFailuresAreReadFromItsOutput() {
        let missing = PipFailure.read(
            "ERROR: Could not find a version that satisfies the requirement numpy==9.9.9 (from versions: 1.0, 2.0)\n"
                + "ERROR: No matching distribution found for numpy==9.9.9\n")
        #expect(
            missing
                == PipFailure(
                    requirement: "numpy==9.9.9", why: "no such version on the package index (it has 1.0, 2.0)"))
        #expect(missing?.name == "numpy")
        let nothing = PipFailure.read(
            "ERROR: Could not find a version that satisfies the requirement nosuchpkg (from versions: none)\n"
                + "ERROR: No matching distribution found for nosuchpkg\n")
        #expect(nothing?.why.hasPrefix("no such package") == true)
        let conflict = PipFailure.read(
            """
            ERROR: Cannot install pandas==2.0.0 and numpy==1.0 because these package versions have conflicting dependencies.

            The conflict is caused by:
                The user requested numpy==1.0
                pandas 2.0.0 depends on numpy>=1.20.3

            ERROR: ResolutionImpossible: for help visit https://pip.pypa.io
            """)
        #expect(
            conflict?.why.contains("pandas 2.0.0 depends on numpy>=1.20.3") == true, "\(String(describing: conflict))")
        #expect(PipFailure.read("ERROR: Failed building wheel for lxml\n")?.requirement == "lxml")
        // A conflict pip reports against the file ("-r FILE (line 3)") is named by the package asked for.
        let viaFile = PipFailure.read(
            """
            ERROR: Cannot install -r /tmp/x/requirements.txt (line 3) and numpy==1.0 because these package versions have conflicting dependencies.
            The conflict is caused by:
                The user requested numpy==1.0
                pandas 2.0.0 depends on numpy>=1.20.3
            ERROR: ResolutionImpossible
            """)
        #expect(viaFile?.requirement == "numpy==1.0", "\(String(describing: viaFile))")
        #expect(PipFailure.read("something else\n") == nil)
        #expect(PipFailure.unreachable("WARNING: Retrying ... NewConnectionError('<pip...>: Failed to establish')"))
    }

    /// The smoke test runs as modelpack's child and does not outlive it: killed by SIGTERM, or by
    /// SIGKILL that no handler sees, modelpack takes it along (so no orphan goes on using a cache
    /// entry that is no longer marked in use).
    @Test(.enabled(if: ServeTests.enabled), .timeLimit(.minutes(10)))
    func theSmokeTestEndsWithModelpack() throws {
        let dir = TempDir()
        let sleepy = try Self.iris(dir, "sleepy", file: "interface.py") {
            $0.replacingOccurrences(
                of: "def load_model():\n",
                with: """
                    def load_model():
                        import os, time
                        with open(os.environ["SLEEPY_PID"] + ".tmp", "w") as f:
                            f.write(str(os.getpid()))
                        os.rename(os.environ["SLEEPY_PID"] + ".tmp", os.environ["SLEEPY_PID"])
                        time.sleep(600)

                    """)
        }
        /// Whether `pid` runs (a zombie no parent reaps does not).
        func running(_ pid: Int32) -> Bool {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
            return !(stat.components(separatedBy: ") ").last ?? "").hasPrefix("Z")
        }
        for signal in [SIGTERM, SIGKILL] {
            let pidFile = dir.file("smoke-\(signal).pid")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CLI.binary)
            process.arguments = ["test", sleepy]
            process.environment = ProcessInfo.processInfo.environment.merging(["SLEEPY_PID": pidFile]) { $1 }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            var child: Int32?
            for _ in 0..<6000 where child == nil {  // the first run creates serve's virtualenv
                child = (try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap { Int32($0) }
                if child == nil { usleep(50_000) }
            }
            let smoke = try #require(child, "the smoke test never started")
            #expect(running(smoke))
            kill(process.processIdentifier, signal)
            process.waitUntilExit()
            var gone = false
            for _ in 0..<200 where !gone {
                gone = !running(smoke)
                if !gone { usleep(50_000) }
            }
            #expect(gone, "the smoke test outlived modelpack killed by signal \(signal)")
            if !gone { kill(smoke, SIGKILL) }
        }
    }
}
