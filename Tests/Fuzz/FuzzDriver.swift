// The libFuzzer driver: one binary for every target, chosen by MODELPACK_FUZZ_TARGET. Built only
// with MODELPACK_FUZZ=1 and -sanitize=fuzzer (Tests/Fuzz/fuzz.sh). SwiftPM links an executable's
// entry point as `<module>_main`, so that is defined here and hands over to libFuzzer's driver.
import Foundation

@testable import ModelPackCore

typealias FuzzCallback = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: FuzzCallback
) -> CInt

let target: FuzzEntry.Target = {
    let name = ProcessInfo.processInfo.environment["MODELPACK_FUZZ_TARGET"] ?? ""
    guard let target = FuzzEntry.Target(rawValue: name) else {
        let names = FuzzEntry.Target.allCases.map(\.rawValue).joined(separator: ", ")
        FileHandle.standardError.write(Data("MODELPACK_FUZZ_TARGET must be one of: \(names)\n".utf8))
        exit(2)
    }
    return target
}()

@_cdecl("modelpack_fuzz_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    _ = target
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments) { data, size in
        FuzzEntry.run(target, size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
        return 0
    }
}
