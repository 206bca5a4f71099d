import Foundation
import Testing

@testable import ModelPackCore

/// The core's folders depend one way: a folder may use the types of the folders below it (and of
/// its own layer), never those above. Docs/DEVELOPMENT.md draws the same layers.
@Suite struct ArchitectureTests {
    /// Lowest first. Folders on one line are one layer.
    static let layers: [[String]] = [
        ["Diagnostics"],
        ["Support"],
        ["Archive"],
        ["ModelDirectory"],
        ["Bundle"],
        ["Interface", "Requirements"],
        ["Metadata"],
        ["Audit"],
        ["Check"],
        ["Signing", "Serving"],
        ["Docker", "Registry", "Card", "Scaffold"],
        ["Operations"],
        ["Rendering"],
        ["Fuzzing"],
    ]

    static let core = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/ModelPackCore")

    /// Each folder's Swift text without comments and string literals.
    static func sources() throws -> [String: String] {
        var out: [String: String] = [:]
        for folder in try FileManager.default.contentsOfDirectory(atPath: core.path) {
            let dir = core.appendingPathComponent(folder)
            guard let files = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { continue }
            for file in files where file.hasSuffix(".swift") {
                var text = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
                for pattern in [##"#?"""[\s\S]*?"""#?"##, ##""(?:[^"\\\n]|\\.)*""##, ##"//[^\n]*"##] {
                    text = text.replacingOccurrences(of: pattern, with: "\"\"", options: .regularExpression)
                }
                out[folder, default: ""] += text + "\n"
            }
        }
        return out
    }

    /// Types declared at the top level of each folder's files (nested types are their owner's).
    static func declarations(_ sources: [String: String]) throws -> [String: String] {
        let regex = try NSRegularExpression(
            pattern:
                #"^(?:public |package |internal |private |fileprivate |final |indirect )*(?:struct|enum|class|protocol|actor) ([A-Z]\w*)"#,
            options: [.anchorsMatchLines])
        var owner: [String: String] = [:]
        for (folder, text) in sources {
            for match in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                if let range = Range(match.range(at: 1), in: text) { owner[String(text[range])] = folder }
            }
        }
        return owner
    }

    /// Run state is explicit (`RunContext`): no task-locals, which do not cross the project's own
    /// threads and hid the limits from the Python runners.
    @Test func runStateTravelsInTheRunContext() throws {
        let sources = try Self.sources()
        for (folder, text) in sources {
            #expect(!text.contains("@TaskLocal"), "\(folder) declares a task-local")
            #expect(!text.contains("$current"), "\(folder) reads a task-local")
            #expect(!text.contains("isatty("), "\(folder) asks the terminal itself (RunContext.interactive says)")
        }
        let cli = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/modelpack")
        for file in try FileManager.default.contentsOfDirectory(atPath: cli.path) where file.hasSuffix(".swift") {
            let text = try String(contentsOf: cli.appendingPathComponent(file), encoding: .utf8)
            #expect(!text.contains("withValue("), "\(file) sets a task-local")
        }
    }

    /// ModelPackCore is the CLI's core, not a library: what the CLI and the tests use is `package`
    /// (SE-0386), and the package has one product, the executable.
    @Test func nothingIsPublic() throws {
        for (folder, text) in try Self.sources() {
            let declaration = text.range(of: #"(?m)^\s*(?:@\w+\s+)*public\s"#, options: .regularExpression)
            #expect(declaration == nil, "\(folder) declares something public")
        }
        let manifest = try String(
            contentsOf: Self.core.deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("Package.swift"), encoding: .utf8)
        #expect(!manifest.contains(".library("), "a library product needs a documented consumer")
    }

    @Test func everyFolderHasALayer() throws {
        let folders = Set(try Self.sources().keys)
        #expect(folders == Set(Self.layers.flatMap { $0 }), "a new folder needs its place in the layers")
    }

    @Test func dependenciesRunOneWay() throws {
        let sources = try Self.sources()
        let owner = try Self.declarations(sources)
        let rank = Dictionary(uniqueKeysWithValues: Self.layers.enumerated().flatMap { i, l in l.map { ($0, i) } })
        var upward: [String] = []
        for (folder, text) in sources.sorted(by: { $0.key < $1.key }) {
            for (name, home) in owner.sorted(by: { $0.key < $1.key })
            where home != folder && (rank[home] ?? 0) > (rank[folder] ?? 0) {
                if text.range(of: #"\b\#(name)\b"#, options: .regularExpression) != nil {
                    upward.append("\(folder) uses \(name) from \(home)")
                }
            }
        }
        #expect(upward.isEmpty, "\(upward.joined(separator: "\n"))")
    }

    /// libcurl and the two dozen libraries it pulls in (TLS, Kerberos, LDAP...) are loaded by the
    /// first registry request (dlopen), not linked: a command that never reaches a registry does not
    /// pay for loading them. (RegistryTests show that the registry commands still load it.)
    /// Every command gives its name: without one, ArgumentParser derives it from the type's name by
    /// reflection (`String(describing:)`), for every subcommand on every start, which scans the
    /// static binary's protocol conformances (about 0.5 ms of each command's start-up here).
    @Test func everyCommandNamesItself() throws {
        let cli = Self.core.deletingLastPathComponent().appendingPathComponent("modelpack")
        var configurations = 0
        for file in try FileManager.default.contentsOfDirectory(atPath: cli.path) where file.hasSuffix(".swift") {
            let text = try String(contentsOf: cli.appendingPathComponent(file), encoding: .utf8)
            for part in text.components(separatedBy: "CommandConfiguration(").dropFirst() {
                configurations += 1
                let arguments = part.drop { $0 == " " || $0 == "\n" }
                #expect(arguments.hasPrefix("commandName:"), "\(file): a CommandConfiguration without commandName")
            }
        }
        #expect(configurations >= 20)
    }

    /// modelpack pins TZ for itself (`ProcessZone`); every process it starts gets the user's: each
    /// `Process()` is given `ProcessZone.childEnvironment()`, and the exec in place of the CLI
    /// (serve, predict, test) puts TZ back first.
    @Test func everyChildGetsTheUsersTimeZone() throws {
        let sources = Self.core.deletingLastPathComponent()
        var spawns = 0
        for target in ["ModelPackCore", "modelpack"] {
            let root = sources.appendingPathComponent(target)
            guard let files = FileManager.default.enumerator(atPath: root.path) else { continue }
            for case let file as String in files where file.hasSuffix(".swift") {
                let text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
                let processes = text.components(separatedBy: "= Process()").count - 1
                spawns += processes
                #expect(
                    text.components(separatedBy: "ProcessZone.childEnvironment()").count - 1 >= processes,
                    "\(target)/\(file): a Process() without ProcessZone.childEnvironment()")
                if text.contains("execv(") {
                    #expect(
                        text.contains("ProcessZone.unpinForExec()"), "\(target)/\(file): execv without unpinForExec")
                }
            }
        }
        #expect(spawns >= 5)
    }

    @Test func libcurlIsLoadedOnlyWhenNeeded() throws {
        let ldd = try CLI.run([CLI.binary], executable: "/usr/bin/ldd")
        #expect(ldd.status == 0)
        #expect(ldd.stdout.contains("libarchive"))  // the listing is real
        #expect(!ldd.stdout.contains("libcurl"))

        // A libcurl that cannot be loaded is one line on the registry command that needed it.
        let tmp = TempDir()
        try Fixture.write([], to: tmp.file("lib/libcurl.so.4"))
        let result = try CLI.run(
            ["inspect", "127.0.0.1:9/team/iris:1"], environment: ["LD_LIBRARY_PATH": tmp.file("lib")])
        #expect(result.status == 3)
        #expect(
            result.stderr
                == "error: 127.0.0.1:9/team/iris:1: libcurl could not be loaded (\(tmp.file("lib/libcurl.so.4")): file too short); install it (Debian: apt-get install libcurl4)\n"
        )
    }
}

/// One command, one file: `Sources/modelpack/X.swift` holds command X's flags and their
/// combinations (`validate()`), and calls the one entry point of `Operations/X.swift`, which
/// orchestrates and returns a result type defined beside it. Domain code lives in the folder named
/// for what it is (Scaffold, Registry...); the core names a flag only through `CommandFlag`.
@Suite struct CommandLayoutTests {
    static let sources = ArchitectureTests.core.deletingLastPathComponent()
    static let cli = sources.appendingPathComponent("modelpack")
    static let operations = ArchitectureTests.core.appendingPathComponent("Operations")
    /// The CLI's files that are not a command: the root, and what several commands share.
    static let sharedCLIFiles: Set<String> = [
        "ModelPack.swift", "Output.swift", "OutputOptions.swift", "LimitOptions.swift", "Progress.swift",
        "RegistryFlags.swift", "TrustOptions.swift", "RunPlan+Exec.swift",
    ]
    /// Lines an Operations file may have: orchestration only.
    static let maxOperationLines = 250

    static func swiftFiles(_ dir: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".swift") }.sorted()
    }

    /// Each command's name, from its file's `CommandConfiguration(commandName: "x"`.
    static func commands() throws -> [String: String] {
        var names: [String: String] = [:]  // file -> command name
        for file in try swiftFiles(cli) {
            let text = try String(contentsOf: cli.appendingPathComponent(file), encoding: .utf8)
            for part in text.components(separatedBy: "CommandConfiguration(").dropFirst() {
                let rest = part.drop { $0 == " " || $0 == "\n" }
                guard rest.hasPrefix("commandName: \""),
                    let name = rest.dropFirst("commandName: \"".count).split(separator: "\"").first
                else { continue }
                if names[file] == nil { names[file] = String(name) }  // the first: the file's command
            }
        }
        return names
    }

    @Test func everyCommandHasItsFileAndItsOperation() throws {
        let commands = try Self.commands()
        let operationFiles = Set(try Self.swiftFiles(Self.operations))
        var expectedOperations: Set<String> = ["Operations.swift"]
        for (file, name) in commands where name != "modelpack" {
            #expect(file == name.prefix(1).uppercased() + name.dropFirst() + ".swift", "\(file) declares \(name)")
            #expect(operationFiles.contains(file), "no Operations/\(file) for the command \(name)")
            expectedOperations.insert(file)
        }
        #expect(commands.count >= 21)
        #expect(
            operationFiles == expectedOperations,
            "Operations files that are no command's: \(operationFiles.subtracting(expectedOperations))")
        let cliFiles = Set(try Self.swiftFiles(Self.cli))
        #expect(
            cliFiles == Set(commands.keys).union(Self.sharedCLIFiles),
            "\(cliFiles.symmetricDifference(Set(commands.keys).union(Self.sharedCLIFiles)))")
    }

    @Test func operationsOnlyOrchestrate() throws {
        for file in try Self.swiftFiles(Self.operations) {
            let text = try String(contentsOf: Self.operations.appendingPathComponent(file), encoding: .utf8)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).count
            #expect(lines <= Self.maxOperationLines, "Operations/\(file) has \(lines) lines")
            // Flag combinations are the CLI's to refuse (its commands' validate()).
            #expect(!text.contains(".usage("), "Operations/\(file) refuses a usage")
        }
    }

    /// The modelpack flags, as ArgumentParser spells them from the CLI's declarations.
    static func flags() throws -> Set<String> {
        var flags: Set<String> = []
        let declaration = try NSRegularExpression(pattern: #"@(?:Option|Flag)\b([\s\S]*?)\bvar\s+`?(\w+)`?"#)
        for file in try swiftFiles(cli) {
            let text = try String(contentsOf: cli.appendingPathComponent(file), encoding: .utf8)
            for match in declaration.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                let attributes = String(text[Range(match.range(at: 1), in: text)!])
                let name = String(text[Range(match.range(at: 2), in: text)!])
                if let custom = attributes.range(of: #"customLong\("([a-z-]+)"\)"#, options: .regularExpression) {
                    flags.insert(String(attributes[custom].dropFirst("customLong(\"".count).dropLast(2)))
                } else {
                    flags.insert(
                        name.reduce(into: "") { out, c in out += c.isUppercase ? "-" + c.lowercased() : String(c) })
                }
            }
        }
        return flags
    }

    /// No flag name in the core's messages but through `CommandFlag`; a string that is exactly a
    /// flag is an argument of a program modelpack runs (the runtime's scripts), and the Dockerfile
    /// generator writes other programs' flags (`COPY --from`).
    @Test func theCoreNamesFlagsOnlyThroughTheirTable() throws {
        let flags = try Self.flags()
        #expect(flags.contains("max-entries") && flags.contains("conf"))
        for flag in CommandFlag.allCases { #expect(flags.contains(flag.rawValue), "CommandFlag.\(flag) is no flag") }
        let literal = try NSRegularExpression(pattern: #""(?:[^"\\\n]|\\.)*""#)
        guard let files = FileManager.default.enumerator(atPath: ArchitectureTests.core.path) else { return }
        var mentions: [String] = []
        for case let file as String in files
        where file.hasSuffix(".swift") && !file.hasSuffix("+Files.swift")
            && !file.hasSuffix("DockerfileGenerator.swift")
            && !file.hasSuffix("CommandFlag.swift")
        {
            let text = try String(contentsOf: ArchitectureTests.core.appendingPathComponent(file), encoding: .utf8)
                .replacingOccurrences(of: #"//[^\n]*"#, with: "", options: .regularExpression)
            for match in literal.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                let body = String(text[Range(match.range, in: text)!].dropFirst().dropLast())
                for flag in flags where body.trimmingCharacters(in: .whitespaces) != "--" + flag {
                    if body.range(of: "--" + flag + #"(?![a-z-])"#, options: .regularExpression) != nil {
                        mentions.append("\(file): --\(flag) in \"\(body.prefix(60))\"")
                    }
                }
            }
        }
        #expect(mentions.isEmpty, "\(mentions.joined(separator: "\n"))")
    }
}
