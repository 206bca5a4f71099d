import Foundation

/// What `modelpack test` needs to know.
package struct TestOptions: Sendable {
    /// A bundle, or a model directory (built into a temporary bundle first).
    package var source: String
    package var python = "python3"
    package var policy = ModelCheck.Policy()
    package var strict = false
    /// The trust policy the model must meet, when one is given.
    package var trust: TrustPolicy?
    /// Single-row predict() calls per example, for the latency figures.
    package var repeats = 20

    package init(source: String) {
        self.source = source
    }
}

/// What the runtime's smoke test measured (`modelpack.test/1`, the document it wrote).
package struct TestResult: Sendable {
    package struct Latency: Sendable, Equatable {
        package let median: Double
        package let max: Double
        package let runs: Int
    }

    package let name: String
    package let version: String
    /// Empty when everything passed.
    package let failures: [String]
    package let loadSeconds: Double?
    package let examples: Int?
    package let note: String?
    package let rowLatency: Latency?
    package let batchMillisecondsPerRow: Double?
    package let peakMiB: Double?
    /// The document as the smoke test wrote it.
    package let document: String
}

/// The model checked and its environment ready, and the smoke test to run in it: the checks'
/// findings can be shown before the model runs.
package struct TestPlan: Sendable {
    package let findings: DiagnosticReport
    /// The cache entries it runs in, marked in use while this lives.
    let prepared: ServeCache.Prepared
    let repeats: Int

    /// The smoke test's report is at most this long (its predictions are the metadata's examples').
    static let reportLimit = 64 << 20

    /// Runs the runtime's smoke test (runtime/modelpack_smoke.py) as a child process and reads its
    /// report. A smoke test that ends without one (killed, or a failure of its own) is an error.
    package func run() throws -> TestResult {
        let arguments =
            prepared.pythonArguments(prepared.smokeTest) + [
                "--model", prepared.modelDirectory, "--serving", prepared.servingJSON, "--repeat", String(repeats),
            ]
        let ended = try ChildProcess.output(
            prepared.python, arguments, overrides: prepared.runtimeEnvironment, limit: Self.reportLimit,
            what: "the smoke test")
        let document = String(decoding: ended.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let result = TestResult(document: document) else {
            let how = ended.signalled ? "was killed by signal \(ended.status)" : "exited \(ended.status)"
            throw ModelPackError.io(
                path: prepared.smokeTest, reason: "the smoke test \(how) without a report (its stderr is above)")
        }
        return result
    }
}

extension Operations {
    /// `test`: the one check pipeline on the model (a bundle or a directory), serve's unpacked
    /// copy and cached virtualenv; the plan then runs the runtime's smoke test: load_model(), the
    /// metadata's examples through the server's input check and predict(), compared with
    /// example_outputs. The smoke test returns data; the result renders it.
    package static func test(_ options: TestOptions, context: RunContext) throws -> TestPlan {
        let served = try prepared(
            options.source, python: options.python, policy: options.policy, strict: options.strict,
            trust: options.trust, context: context)
        return TestPlan(findings: served.findings, prepared: served.prepared, repeats: options.repeats)
    }
}

extension TestResult {
    /// Reads the smoke test's document; nil when it is not one.
    init?(document: String) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(document.utf8)) as? [String: Any],
            object["schema"] as? String == "modelpack.test/1", let name = object["name"] as? String,
            let version = object["version"] as? String, let failures = object["failures"] as? [String]
        else { return nil }
        self.name = name
        self.version = version
        self.failures = failures
        self.document = document
        loadSeconds = (object["load_seconds"] as? NSNumber)?.doubleValue
        examples = (object["examples"] as? NSNumber)?.intValue
        note = object["note"] as? String
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
