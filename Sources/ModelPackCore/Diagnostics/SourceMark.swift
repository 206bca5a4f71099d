/// A 1-based position in a source file.
package struct SourceMark: Equatable, Sendable, CustomStringConvertible {
    package let line: Int
    package let column: Int
    package var description: String { "\(line):\(column)" }
}
