/// Skips the plain run of a JSON string eight bytes at a time: file payloads are megabytes
/// of base64 inside one string, which the framer and then the parser cross, and a guest under
/// emulation pays for every instruction.
enum ByteScan {
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    /// The offset of the first word at or after `start` (before `end`) that may hold `quote`,
    /// a backslash, a control character or a byte of 0x80 and above; bytes past it are for a
    /// byte-at-a-time loop, which also takes the last few bytes before `end`.
    @inline(__always)
    static func plainStringRun(_ base: UnsafeRawPointer, from start: Int, to end: Int, quote: UInt8) -> Int {
        let quotes = ones &* UInt64(quote)
        let backslashes = ones &* UInt64(UInt8(ascii: "\\"))
        let spaces = ones &* 0x20
        var i = start
        while i &+ 8 <= end {
            let x = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            let q = x ^ quotes
            let b = x ^ backslashes
            // A byte's top bit is set below where a byte is zero (q, b) or under 0x20 (x), and
            // wherever x has its top bit: false alarms only past a true one, which all stop.
            let stop = ((q &- ones) & ~q) | ((b &- ones) & ~b) | ((x &- spaces) & ~x) | x
            if stop & highs != 0 { break }
            i &+= 8
        }
        return i
    }
}
