import Glibc

/// Stops the fuzzer when an invariant does not hold (see `fail`).
public func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String, fileID: String = #fileID) {
    if !condition() { fail(message(), fileID: fileID) }
}

/// Names the broken invariant on stderr, with the target (the module in `fileID`), and
/// traps, so that libFuzzer records the input as a crash.
public func fail(_ message: String, fileID: String = #fileID) -> Never {
    let target = fileID.split(separator: "/").first.map(String.init) ?? "fuzz"
    let line = Array("\(target): invariant broken: \(message)\n".utf8)
    _ = line.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    preconditionFailure(message)
}

/// The input libFuzzer hands `LLVMFuzzerTestOneInput`, as bytes.
public func input(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
}
