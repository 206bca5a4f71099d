import Foundation

/// The one timestamp of everything modelpack writes (bundle entries, image labels):
/// `SOURCE_DATE_EPOCH` when it is set (reproducible-builds.org), else 1980-01-01, the zip epoch.
package enum SourceDate {
    package static let fixedEpoch: Int64 = 315_532_800

    package static func timestamp(environment: [String: String]? = nil) -> Int64 {
        let environment = environment ?? ProcessInfo.processInfo.environment
        if let text = environment["SOURCE_DATE_EPOCH"], let value = Int64(text), value >= 0 { return value }
        return fixedEpoch
    }
}
