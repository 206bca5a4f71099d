import Foundation
import Testing

@testable import ModelPackCore

/// Every command's --help, as a user reads it: its own options first, the limit flags only under
/// --help-hidden. RECORD=1 re-records (and fails that run).
@Suite struct HelpSnapshotTests {
    static let commands = [
        "", "build", "validate", "inspect", "scan", "verify", "unpack", "serve", "dockerfile", "keygen", "sign", "push",
        "pull", "login", "prune", "cache", "cache list", "cache prune", "diff", "card", "predict", "test", "init",
    ]

    @Test(arguments: commands)
    func helpMatchesItsSnapshot(_ command: String) throws {
        let words = command.split(separator: " ").map(String.init)
        let result = try CLI.run(words + ["--help"], environment: ["COLUMNS": "100"])
        #expect(result.status == 0)
        #expect(!result.stdout.contains("--max-"), "limit flags belong to --help-hidden")
        try Golden.assert(result.stdout, "help/\(command.isEmpty ? "modelpack" : words.joined(separator: "-")).txt")
    }

    /// The limit flags are there, and each command shows only those it enforces.
    @Test func hiddenHelpListsTheLimitsEachCommandTakes() throws {
        let expected: [String: Set<String>] = [
            "build": [
                "entries", "total-size", "path-length", "yaml-size", "yaml-depth", "yaml-nodes", "pickle-opcodes",
                "pickle-memo", "pickle-stack",
            ],
            "scan": ["pickle-opcodes", "pickle-memo", "pickle-stack"],
            "verify": ["entries", "total-size", "path-length", "ratio"],
            "unpack": ["entries", "total-size", "path-length", "ratio"],
            "validate": [
                "entries", "total-size", "path-length", "ratio", "yaml-size", "yaml-depth", "yaml-nodes",
                "pickle-opcodes", "pickle-memo", "pickle-stack",
            ],
        ]
        for (command, flags) in expected {
            let help = try CLI.run([command, "--help-hidden"]).stdout
            let shown = Set(
                help.split(whereSeparator: { $0 == " " || $0 == "\n" }).filter { $0.hasPrefix("--max-") }.map {
                    String($0.dropFirst("--max-".count))
                })
            #expect(shown == flags, "\(command)")
        }
    }
}
