import Foundation

/// What `modelpack test` needs to know.
package struct TestOptions: Sendable {
    /// A bundle, or a model directory (built into a temporary bundle first).
    package var source: String
    package var python = "python3"
    package var policy = ModelCheck.Policy()
    package var strict = false
    /// Single-row predict() calls per example, for the latency figures.
    package var repeats = 20

    package init(source: String) {
        self.source = source
    }
}

/// What the runtime's smoke test measured (`modelpack.test/1`, the document it wrote), and the
/// checks' findings that did not stop it.
package struct TestResult: Sendable {
    package struct Latency: Sendable, Equatable {
        package let median: Double
        package let max: Double
        package let runs: Int
    }

    package let findings: DiagnosticReport
    package let name: String
    package let version: String
    /// Empty when everything passed.
    package let failures: [String]
    package let loadSeconds: Double?
    package let examples: Int?
    package let note: String?
    /// The predictions, as JSON text (Python's spelling: `["a", "b"]`).
    package let predictions: String?
    package let rowLatency: Latency?
    package let batchMillisecondsPerRow: Double?
    package let peakMiB: Double?
    /// The document as the smoke test wrote it.
    package let document: String
}

extension Operations {
    /// The smoke test's report is at most this long (its predictions are the metadata's examples').
    static let testReportLimit = 64 << 20

    /// `test`: the one check pipeline on the model (a bundle or a directory), serve's unpacked
    /// copy and cached virtualenv, then the runtime's smoke test (runtime/modelpack_smoke.py, a
    /// child process): load_model(), the metadata's examples through the server's input check and
    /// predict(), compared with example_outputs. It returns data; the result renders it.
    package static func test(_ options: TestOptions, context: RunContext) throws -> TestResult {
        let served = try prepared(
            options.source, python: options.python, policy: options.policy, strict: options.strict, context: context)
        let prepared = served.prepared
        let arguments =
            prepared.pythonArguments(prepared.smokeTest) + [
                "--model", prepared.modelDirectory, "--serving", prepared.servingJSON,
                "--repeat", String(options.repeats),
            ]
        // prepared holds the cache entries' use locks: alive while the smoke test runs.
        let ended = try withExtendedLifetime(prepared) {
            try ChildProcess.output(
                prepared.python, arguments, overrides: prepared.runtimeEnvironment, limit: testReportLimit,
                what: "the smoke test")
        }
        let document = String(decoding: ended.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let result = TestResult(document: document, findings: served.findings) else {
            let how = ended.signalled ? "was killed by signal \(ended.status)" : "exited \(ended.status)"
            throw ModelPackError.io(
                path: prepared.smokeTest, reason: "the smoke test \(how) without a report (its stderr is above)")
        }
        return result
    }
}

extension TestResult {
    /// Reads the smoke test's document; nil when it is not one.
    init?(document: String, findings: DiagnosticReport) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(document.utf8)) as? [String: Any],
            object["schema"] as? String == "modelpack.test/1", let name = object["name"] as? String,
            let version = object["version"] as? String, let failures = object["failures"] as? [String]
        else { return nil }
        self.findings = findings
        self.name = name
        self.version = version
        self.failures = failures
        self.document = document
        loadSeconds = (object["load_seconds"] as? NSNumber)?.doubleValue
        examples = (object["examples"] as? NSNumber)?.intValue
        note = object["note"] as? String
        predictions = object["predictions"].map(PythonJSON.dumps)
        if let latency = object["row_latency_ms"] as? [String: Any], let median = latency["median"] as? NSNumber,
            let max = latency["max"] as? NSNumber, let runs = latency["runs"] as? NSNumber
        {
            rowLatency = Latency(median: median.doubleValue, max: max.doubleValue, runs: runs.intValue)
        } else {
            rowLatency = nil
        }
        batchMillisecondsPerRow = (object["batch_ms_per_row"] as? NSNumber)?.doubleValue
        peakMiB = (object["peak_rss_mib"] as? NSNumber)?.doubleValue
    }
}

/// JSON spelt as Python's `json.dumps` spells it (`[1, "a"]`, `{"k": 2.5}`): how a prediction
/// reads in test's text.
enum PythonJSON {
    static func dumps(_ value: Any) -> String {
        switch value {
        case is NSNull: return "null"
        case let string as String: return StableJSON.encode(string)
        case let array as [Any]: return "[" + array.map(dumps).joined(separator: ", ") + "]"
        case let object as [String: Any]:
            return "{"
                + object.keys.sorted().map { StableJSON.encode($0) + ": " + dumps(object[$0]!) }
                .joined(separator: ", ") + "}"
        case let number as NSNumber:
            // JSON's true and false are the char-typed numbers; the others print as Python's repr.
            if String(cString: number.objCType) == "c" { return number.boolValue ? "true" : "false" }
            return number.description
        default: return String(describing: value)
        }
    }
}
