import Foundation
import Testing

@testable import ModelPackCore

/// One input rule, two implementations (InputFit for the metadata example, the runtime's check
/// for requests), one table of cases both must pass.
@Suite struct InputFitTests {
    static let directory = Golden.fixtures.appendingPathComponent("inputs")

    struct Case: Decodable, CustomTestStringConvertible, Sendable {
        struct Spec: Decodable, Sendable {
            let type: String
            let categories: [String]?
            let shape: [Int?]?
            let dtype: String?
        }
        let spec: Spec
        let value: JSONValue
        let fits: Bool
        var testDescription: String { "\(spec.type) \(spec.shape.map { "\($0)" } ?? "") \(value)" }
    }

    /// A JSON value with integers apart from floats; `{"$float": "x"}` is a float JSON cannot write.
    indirect enum JSONValue: Decodable, Sendable, CustomStringConvertible {
        case null, bool(Bool), int(Int64), float(Double), string(String), list([JSONValue])

        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() {
                self = .null
            } else if let b = try? c.decode(Bool.self) {
                self = .bool(b)
            } else if let object = try? c.decode([String: String].self), let text = object["$float"] {
                self = .float(Double(text) ?? .nan)
            } else if let i = try? c.decode(Int64.self) {
                self = .int(i)
            } else if let d = try? c.decode(Double.self) {
                self = .float(d)
            } else if let s = try? c.decode(String.self) {
                self = .string(s)
            } else {
                self = .list(try c.decode([JSONValue].self))
            }
        }

        var input: InputValue {
            switch self {
            case .null: return .null
            case .bool(let b): return .bool(b)
            case .int(let i): return .int(i)
            case .float(let d): return .float(d)
            case .string(let s): return .string(s)
            case .list(let items): return .list(items.map(\.input))
            }
        }

        var description: String {
            switch self {
            case .null: return "null"
            case .bool(let b): return "\(b)"
            case .int(let i): return "\(i)"
            case .float(let d): return "\(d)f"
            case .string(let s): return "\"\(s)\""
            case .list(let items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
            }
        }
    }

    struct Table: Decodable { let cases: [Case] }

    static let cases: [Case] = {
        let data = (try? Data(contentsOf: directory.appendingPathComponent("cases.json"))) ?? Data()
        return (try? JSONDecoder().decode(Table.self, from: data).cases) ?? []
    }()

    @Test func theTableIsThere() { #expect(Self.cases.count >= 40) }

    @Test(arguments: cases)
    func modelpackAgrees(_ c: Case) {
        let problem = InputFit.problem(
            c.value.input, type: c.spec.type, categories: c.spec.categories ?? [], shape: c.spec.shape,
            dtype: c.spec.dtype)
        #expect((problem == nil) == c.fits, "\(problem ?? "fits")")
    }

    /// The runtime's module as build contexts and serve ship it, over the same table.
    @Test(.enabled(if: PythonOracle.required || PythonCompiler.find() != nil))
    func theServingRuntimeAgrees() throws {
        let tmp = TempDir()
        for file in ServingRuntime.files { try Fixture.write(Array(file.text.utf8), to: tmp.file(file.name)) }
        let result = try PythonOracle.run(
            Self.directory.appendingPathComponent("check_runtime.py").path,
            [tmp.path, Self.directory.appendingPathComponent("cases.json").path])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("\(Self.cases.count) passed, 0 failed"))
    }

    /// The example goes through the same rule: a ragged row is MP111, at the row.
    @Test func aRaggedExampleRowIsReported() throws {
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"), extra: ["model.bin": [1, 2, 3]])
        let metadata = Fixture.metadata.replacingOccurrences(
            of: "  - {name: x, type: float}\n", with: "  - {name: x, type: tensor, shape: [-1, 8]}\n")
        try Fixture.write(
            Array((metadata + "example:\n  - {x: [[1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 3, 4, 5, 6, 7]]}\n").utf8),
            to: tmp.file("m/metadata.yaml"))
        let report = try ModelCheck.check(tmp.file("m"), context: .test).report
        let found = try #require(report.diagnostics.first { $0.code == .exampleMismatch })
        #expect(found.message.contains("ragged"), "\(found.message)")
        #expect(found.line == 12)
    }
    /// A scalar float or int may declare its dtype (the one the model casts to): the example is
    /// then held to that dtype's range, and a dtype of the wrong kind, or on a string, is refused.
    @Test func scalarInputsMayDeclareTheirDtype() throws {
        func diagnostics(_ input: String, example: String? = nil) throws -> [Diagnostic] {
            let tmp = TempDir()
            try Fixture.model(at: tmp.file("m"), extra: ["model.bin": [1, 2, 3]])
            let metadata = Fixture.metadata.replacingOccurrences(
                of: "  - {name: x, type: float}\n", with: "  - \(input)\n")
            try Fixture.write(
                Array((metadata + (example.map { "example:\n  - {x: \($0)}\n" } ?? "")).utf8),
                to: tmp.file("m/metadata.yaml"))
            return try ModelCheck.check(tmp.file("m"), context: .test).report.diagnostics.filter {
                $0.severity == .error
            }
        }
        #expect(try diagnostics("{name: x, type: float, dtype: float32}", example: "3.4e38").isEmpty)
        #expect(try diagnostics("{name: x, type: int, dtype: uint8}", example: "255").isEmpty)
        let overflow = try diagnostics("{name: x, type: float, dtype: float32}", example: "1.0e39")
        #expect(overflow.map(\.code) == [.exampleMismatch])
        #expect(overflow.first?.message.contains("outside the range of float32") == true, "\(overflow)")
        let wide = try diagnostics("{name: x, type: int, dtype: int8}", example: "128")
        #expect(wide.first?.message.contains("holds 128, outside the range of int8") == true, "\(wide)")
        let kind = try diagnostics("{name: x, type: int, dtype: float32}")
        #expect(kind.map(\.code) == [.invalidValue])
        #expect(kind.first?.message == "dtype 'float32' is not for int input 'x'", "\(kind)")
        let near = try diagnostics("{name: x, type: float, dtype: flaot32}")
        #expect(near.first?.message == "unknown dtype 'flaot32' for 'x'; did you mean 'float32'?", "\(near)")
        let string = try diagnostics("{name: x, type: string, dtype: string}")
        #expect(string.map(\.code) == [.invalidSignature])
        #expect(string.first?.message.contains("only for types float, int and tensor") == true, "\(string)")
    }
}
