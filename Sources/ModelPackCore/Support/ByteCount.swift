import Foundation

package enum ByteCount {
    /// `1.5 MiB`-style sizes for text output (JSON carries exact byte counts).
    package static func human(_ bytes: Int64) -> String {
        if bytes < 1024 { return "\(bytes) B" }
        let units = ["KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes) / 1024
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return String(format: "%.1f %@", value, units[unit])
    }

    static let suffixes: [(String, Int64)] = [("T", 1 << 40), ("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)]

    /// Reads `123`, `64K`, `512M`, `2G`, `1T` (binary units; `KiB`, `MiB`... and `B` also read);
    /// nil for anything else or a value that does not fit.
    package static func parse(_ text: String) -> Int64? {
        var digits = Substring(text.uppercased())
        if digits.hasSuffix("IB") {
            digits = digits.dropLast(2)
        } else if digits.hasSuffix("B") {
            digits = digits.dropLast()
        }
        var unit: Int64 = 1
        if let (suffix, scale) = suffixes.first(where: { digits.hasSuffix($0.0) }) {
            digits = digits.dropLast(suffix.count)
            unit = scale
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let value = Int64(digits), value >= 0 else { return nil }
        let (product, overflow) = value.multipliedReportingOverflow(by: unit)
        return overflow ? nil : product
    }

    /// The shortest exact flag form of a byte count: `256G`, `1M`, `1000`.
    package static func flag(_ bytes: Int64) -> String {
        for (suffix, scale) in suffixes where bytes >= scale && bytes % scale == 0 {
            return "\(bytes / scale)\(suffix)"
        }
        return String(bytes)
    }
}
