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
        // A byte's top bit is set below where a byte is zero (q, b) or under 0x20 (x), and
        // wherever x has its top bit: false alarms only past a true one, which all stop.
        @inline(__always) func stops(_ x: UInt64) -> UInt64 {
            let q = x ^ quotes
            let b = x ^ backslashes
            return ((q &- ones) & ~q) | ((b &- ones) & ~b) | ((x &- spaces) & ~x) | x
        }
        var i = start
        // Two words per step while they last; offsets stay below `end`, so cannot overflow.
        while i &+ 16 <= end {
            let x = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            let y = base.loadUnaligned(fromByteOffset: i &+ 8, as: UInt64.self)
            if (stops(x) | stops(y)) & highs != 0 { break }
            i &+= 16
        }
        while i &+ 8 <= end {
            if stops(base.loadUnaligned(fromByteOffset: i, as: UInt64.self)) & highs != 0 { break }
            i &+= 8
        }
        return i
    }
}
