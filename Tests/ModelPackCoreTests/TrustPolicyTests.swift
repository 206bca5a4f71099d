import Foundation
import Testing

@testable import ModelPackCore

/// `--policy FILE` (and MODELPACK_POLICY): a policy is read strictly, and unpack, dockerfile,
/// serve, test, predict and pull refuse, in one line naming the policy, what it does not allow.
@Suite struct TrustPolicyTests {
    static func bundle(_ tmp: TempDir) throws -> String {
        try Fixture.model(at: tmp.file("m"), extra: ["w.bin": Fixture.noise(2_000)])
        #expect(try CLI.run(["build", tmp.file("m"), "-o", tmp.file("b.tar")]).status == 0)
        for name in ["alice", "mallory"] {
            #expect(try CLI.run(["keygen", "-o", tmp.file(name)]).status == 0)
        }
        return tmp.file("b.tar")
    }

    static func policy(_ tmp: TempDir, _ text: String) throws -> String {
        try Fixture.write(Array(text.utf8), to: tmp.file("policy.yaml"))
        return tmp.file("policy.yaml")
    }

    @Test func aPolicyIsReadStrictly() throws {
        let tmp = TempDir()
        _ = try Self.bundle(tmp)
        let cases: [(String, String)] = [
            (
                "modelpack_policy: 1\ndefault:\n  require_signatur: true\n",
                "policy.yaml:3: unknown key 'require_signatur'"
            ),
            ("modelpack_policy: 1\ndefault:\n  require_signature: true\n", "requires a signature but names no key"),
            ("default:\n  require_clean_audit: true\n", "modelpack_policy: 1 is missing"),
            (
                "modelpack_policy: 1\ndefault:\n  require_signature: yes please\n  keys: [alice.pub]\n",
                "require_signature is true or false"
            ),
            ("modelpack_policy: 1\ndefault:\n  keys: [nobody.pub]\n", "nobody.pub"),
            ("modelpack_policy: 1\nregistries:\n  - keys: [alice.pub]\n", "a registry rule needs a prefix"),
            ("modelpack_policy: 1\nregistries:\n  - prefix: host.example/team:v1\n", "is not HOST or HOST/REPOSITORY"),
            ("modelpack_policy: 1\nregistries:\n  - prefix: oci://\n", "is not HOST or HOST/REPOSITORY"),
            ("modelpack_policy: 1\nregistries:\n  - prefix: h.example/t\n  - prefix: H.example/t/\n", "a second rule"),
            ("modelpack_policy: 1\ndefault:\n  trusted_keys: nowhere\n", "the default rule's keys do not read"),
        ]
        for (text, message) in cases {
            let path = try Self.policy(tmp, text)
            let run = try CLI.run(["unpack", tmp.file("b.tar"), "-o", tmp.file("out"), "--policy", path])
            let line = run.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(run.status != 0 && line.contains(message) && !line.contains("\n"), "\(text): \(run)")
            #expect(!FileSystem.exists(tmp.file("out")))
        }
    }

    /// Hosts compare in lower case, Docker Hub's names as one, and a prefix matches whole path
    /// components only.
    @Test func rulesMatchTheNameNotItsSpelling() throws {
        let tmp = TempDir()
        _ = try Self.bundle(tmp)
        let path = try Self.policy(
            tmp,
            """
            modelpack_policy: 1
            registries:
              - prefix: Registry.Example.com/team
                keys: [alice.pub]
                require_signature: true
              - prefix: index.docker.io/acme
                keys: [alice.pub]
                require_signature: true
            """)
        let policy = try TrustPolicy.load(path)
        func strict(_ host: String, _ repository: String) -> Bool {
            policy.rule(for: TrustPolicy.canonical(host: host, repository: repository)).requireSignature
        }
        #expect(strict("REGISTRY.example.com", "team/m") && strict("registry.example.com", "team"))
        #expect(!strict("registry.example.com", "teamx/m") && !strict("registry.example.com", "other/team"))
        #expect(strict(ImageReference.dockerHub, "acme/m") && strict("docker.io", "acme/m"))
    }

    /// --provenance never names the bundle (however spelt), and a key that does not read stops
    /// the build before the bundle is written.
    @Test func provenanceNeverOverwritesTheBundle() throws {
        let tmp = TempDir()
        _ = try Self.bundle(tmp)
        let same = try CLI.run(["build", tmp.file("m"), "-o", tmp.file("p.zip"), "--provenance", tmp.file("./p.zip")])
        #expect(same.status == ExitStatus.usage && !FileSystem.exists(tmp.file("p.zip")), "\(same)")
        let badKey = try CLI.run([
            "build", tmp.file("m"), "-o", tmp.file("q.zip"), "--provenance", tmp.file("q.json"), "--provenance-key",
            tmp.file("nokey"),
        ])
        #expect(badKey.status != 0 && !FileSystem.exists(tmp.file("q.zip")), "\(badKey)")
    }

    @Test func unpackAndDockerfileMeetTheDefaultRule() throws {
        let tmp = TempDir()
        let bundle = try Self.bundle(tmp)
        let path = try Self.policy(
            tmp, "modelpack_policy: 1\ndefault:\n  require_signature: true\n  keys: [alice.pub]\n")
        let unsigned = try CLI.run(["unpack", bundle, "-o", tmp.file("out"), "--policy", path])
        #expect(unsigned.status != 0 && unsigned.stderr.contains("refused by the trust policy"), "\(unsigned)")
        #expect(unsigned.stderr.contains("it is not signed") && !FileSystem.exists(tmp.file("out")))
        _ = try CLI.run(["sign", bundle, "--key", tmp.file("mallory")])
        let wrong = try CLI.run(["unpack", bundle, "-o", tmp.file("out"), "--policy", path])
        #expect(wrong.status != 0 && wrong.stderr.contains("no signature by a key it trusts"), "\(wrong)")
        _ = try CLI.run(["sign", bundle, "--key", tmp.file("alice")])
        #expect(try CLI.run(["unpack", bundle, "-o", tmp.file("out"), "--policy", path]).status == 0)
        // MODELPACK_POLICY names it too; a directory carries no signature.
        let directory = try CLI.run(
            ["dockerfile", tmp.file("m"), "-o", tmp.file("ctx")], environment: ["MODELPACK_POLICY": path])
        #expect(directory.status != 0 && directory.stderr.contains("a model directory carries no signature"))
        #expect(!FileSystem.exists(tmp.file("ctx")))
        let signed = try CLI.run(
            ["dockerfile", bundle, "-o", tmp.file("ctx")], environment: ["MODELPACK_POLICY": path])
        #expect(signed.status == 0, "\(signed)")
    }

    /// require_bom and require_provenance on a local bundle: BUNDLE.bom.json and
    /// BUNDLE.provenance.json beside it, describing it (the provenance signed by the rule's keys);
    /// a rebuild of other content removes the stale ones, and the BOM of another bundle is refused.
    @Test func aPolicyRequiresTheBOMAndTheProvenanceBesideABundle() throws {
        let tmp = TempDir()
        let bundle = try Self.bundle(tmp)
        let path = try Self.policy(
            tmp, "modelpack_policy: 1\ndefault:\n  require_bom: true\n  require_provenance: true\n  keys: [alice.pub]\n"
        )
        let bare = try CLI.run(["unpack", bundle, "-o", tmp.file("out"), "--policy", path])
        #expect(
            bare.status != 0 && bare.stderr.contains("it has no ML-BOM (there is no \(bundle).bom.json)"), "\(bare)")
        #expect(!FileSystem.exists(tmp.file("out")))
        #expect(try CLI.run(["bom", bundle, "-o", bundle + ".bom.json"]).status == 0)
        // An unsigned provenance, then one signed by a key the policy does not trust.
        let unsigned = try CLI.run(["build", tmp.file("m"), "-o", bundle, "--provenance", bundle + ".provenance.json"])
        #expect(unsigned.status == 0, "\(unsigned)")
        let notSigned = try CLI.run(["unpack", bundle, "-o", tmp.file("out"), "--policy", path])
        #expect(notSigned.status != 0 && notSigned.stderr.contains("the provenance is not signed"), "\(notSigned)")
        for (key, passes) in [("mallory", false), ("alice", true)] {
            let built = try CLI.run([
                "build", tmp.file("m"), "-o", bundle, "--provenance", bundle + ".provenance.json", "--provenance-key",
                tmp.file(key),
            ])
            #expect(built.status == 0 && FileSystem.exists(bundle + ".bom.json"), "\(built)")
            let run = try CLI.run(["unpack", bundle, "-o", tmp.file("out"), "--policy", path, "--force"])
            #expect((run.status == 0) == passes, "\(key): \(run)")
            if !passes { #expect(run.stderr.contains("not signed by a trusted key"), "\(run)") }
        }
        // Other content: build removes what described the old bundle, and says so.
        let oldBOM = try Fixture.read(bundle + ".bom.json")
        try Fixture.write(Array("changed\n".utf8), to: tmp.file("m/NOTES.md"))
        let rebuilt = try CLI.run(["build", tmp.file("m"), "-o", bundle])
        #expect(rebuilt.status == 0 && rebuilt.stdout.contains("removed \(bundle).bom.json"), "\(rebuilt)")
        #expect(!FileSystem.exists(bundle + ".bom.json") && !FileSystem.exists(bundle + ".provenance.json"))
        // The BOM of another bundle beside this one is refused, naming the digest it describes.
        try Fixture.write(oldBOM, to: bundle + ".bom.json")
        let other = try CLI.run(["unpack", bundle, "-o", tmp.file("out2"), "--policy", path])
        #expect(other.status != 0 && other.stderr.contains("the BOM describes"), "\(other)")
        // A model directory carries neither.
        let directory = try CLI.run(["dockerfile", tmp.file("m"), "-o", tmp.file("ctx"), "--policy", path])
        #expect(directory.status != 0 && directory.stderr.contains("carries no BOM or provenance"), "\(directory)")
    }

    @Test func aCleanAuditIsOneWithoutFindings() throws {
        let tmp = TempDir()
        let bundle = try Self.bundle(tmp)
        let path = try Self.policy(tmp, "modelpack_policy: 1\ndefault:\n  require_clean_audit: true\n")
        let verdict = try ModelCheck.check(bundle, context: .test)
        let clean =
            verdict.report.errorCount == 0 && verdict.report.warningCount == 0
            && verdict.audits.allSatisfy { $0.verdict == .safe }
        let run = try CLI.run(["unpack", bundle, "-o", tmp.file("out"), "--policy", path])
        #expect((run.status == 0) == clean, "\(run)")
        // An unpinned requirement is a warning: not clean.
        try Fixture.write(Array("scikit-learn\n".utf8), to: tmp.file("m/requirements.txt"))
        #expect(try CLI.run(["build", tmp.file("m"), "-o", tmp.file("loose.tar")]).status == 0)
        let loose = try CLI.run(["unpack", tmp.file("loose.tar"), "-o", tmp.file("loose"), "--policy", path])
        #expect(loose.status != 0 && loose.stderr.contains("the audit is not clean"), "\(loose)")
        #expect(!FileSystem.exists(tmp.file("loose")))
    }
}
