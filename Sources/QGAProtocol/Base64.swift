/// Standard base64 (RFC 4648, with padding), as the agent's `buf-b64`, `input-data`,
/// `out-data` and `password` fields carry it.
///
/// File payloads are megabytes and a guest under emulation pays for every instruction, so
/// both directions work on words: the encoder turns 6 bytes into 8 characters with one
/// load, four lookups of two characters each and one store; the decoder turns 8 characters
/// into 6 bytes with one load, eight lookups and one store, and leaves anything but plain
/// alphabet (whitespace, padding, errors) to a byte-at-a-time loop.
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// The two characters of every 12-bit value, the first in the low byte.
    private static let pairs: [UInt16] = (0..<4096).map { UInt16(alphabet[$0 >> 6]) | UInt16(alphabet[$0 & 0x3F]) << 8 }

    /// Each character's 6 bits already shifted into place for its position in a group of
    /// four (table `p` at `p * 256`), or `invalid` for a character outside the alphabet.
    private static let decodeTables: [UInt32] = {
        var table = [UInt32](repeating: invalid, count: 4 * 256)
        for (value, c) in alphabet.enumerated() {
            for position in 0..<4 { table[position * 256 + Int(c)] = UInt32(value) << (6 * (3 - position)) }
        }
        return table
    }()
    private static let invalid: UInt32 = 1 << 24

    /// The length of the encoding of `count` bytes.
    public static func encodedLength(_ count: Int) -> Int { (count + 2) / 3 * 4 }

    /// Encodes bytes.
    public static func encode(_ bytes: some Collection<UInt8>) -> String { encode(Array(bytes)) }

    /// Encodes bytes.
    public static func encode(_ bytes: [UInt8]) -> String {
        let length = encodedLength(bytes.count)
        return String(unsafeUninitializedCapacity: length) { out in
            bytes.withUnsafeBytes { encode($0, into: UnsafeMutableRawBufferPointer(out)) }
        }
    }

    /// Encodes `input` into the start of `output`, which holds at least
    /// `encodedLength(input.count)` bytes; returns that length.
    @discardableResult
    public static func encode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int {
        let n = input.count
        let length = encodedLength(n)
        precondition(output.count >= length, "base64 output buffer too small")
        guard n > 0, let src = input.baseAddress, let dst = output.baseAddress else { return 0 }
        pairs.withUnsafeBufferPointer { table in
            var i = 0
            var o = 0
            // The top 6 bytes of a big-endian load as 8 characters.
            @inline(__always) func eight(_ x: UInt64) -> UInt64 {
                let a = UInt64(table[Int(truncatingIfNeeded: x >> 52)])
                let b = UInt64(table[Int(truncatingIfNeeded: x >> 40 & 0xFFF)])
                let c = UInt64(table[Int(truncatingIfNeeded: x >> 28 & 0xFFF)])
                let d = UInt64(table[Int(truncatingIfNeeded: x >> 16 & 0xFFF)])
                return (a | b << 16 | c << 32 | d << 48).littleEndian
            }
            // 12 bytes per step, in two 8-byte loads (so 14 readable bytes), then 6.
            // Offsets stay below n, so they cannot overflow.
            while i &+ 14 <= n {
                let x = UInt64(bigEndian: src.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                let y = UInt64(bigEndian: src.loadUnaligned(fromByteOffset: i &+ 6, as: UInt64.self))
                dst.storeBytes(of: eight(x), toByteOffset: o, as: UInt64.self)
                dst.storeBytes(of: eight(y), toByteOffset: o &+ 8, as: UInt64.self)
                i &+= 12
                o &+= 16
            }
            while i &+ 8 <= n {
                dst.storeBytes(of: eight(UInt64(bigEndian: src.loadUnaligned(fromByteOffset: i, as: UInt64.self))), toByteOffset: o, as: UInt64.self)
                i &+= 6
                o &+= 8
            }
            while i + 3 <= n {
                let v = UInt32(src.load(fromByteOffset: i, as: UInt8.self)) << 16
                    | UInt32(src.load(fromByteOffset: i + 1, as: UInt8.self)) << 8
                    | UInt32(src.load(fromByteOffset: i + 2, as: UInt8.self))
                let word = UInt32(table[Int(truncatingIfNeeded: v >> 12)]) | UInt32(table[Int(truncatingIfNeeded: v & 0xFFF)]) << 16
                dst.storeBytes(of: word.littleEndian, toByteOffset: o, as: UInt32.self)
                i += 3
                o += 4
            }
            let rest = n - i
            if rest > 0 {
                let b1 = rest > 1 ? UInt32(src.load(fromByteOffset: i + 1, as: UInt8.self)) : 0
                let v = UInt32(src.load(fromByteOffset: i, as: UInt8.self)) << 16 | b1 << 8
                let first = table[Int(truncatingIfNeeded: v >> 12)]
                dst.storeBytes(of: UInt8(truncatingIfNeeded: first), toByteOffset: o, as: UInt8.self)
                dst.storeBytes(of: UInt8(truncatingIfNeeded: first >> 8), toByteOffset: o + 1, as: UInt8.self)
                let third = rest > 1 ? UInt8(truncatingIfNeeded: table[Int(truncatingIfNeeded: v & 0xFFF)]) : UInt8(ascii: "=")
                dst.storeBytes(of: third, toByteOffset: o + 2, as: UInt8.self)
                dst.storeBytes(of: UInt8(ascii: "="), toByteOffset: o + 3, as: UInt8.self)
            }
        }
        return length
    }

    /// Decodes text; whitespace is skipped, padding is optional; nil for anything else.
    public static func decode(_ text: String) -> [UInt8]? {
        var text = text
        return text.withUTF8 { decode(bytes: $0) }
    }

    /// The most bytes that `count` characters decode to, plus the slack `decode(_:into:)`
    /// needs to write whole words.
    public static func decodedCapacity(_ count: Int) -> Int { count / 4 * 3 + 8 }

    /// Decodes base64 bytes (file payloads are megabytes).
    public static func decode(bytes input: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        var failed = false
        let result = [UInt8](unsafeUninitializedCapacity: decodedCapacity(input.count)) { out, count in
            guard let n = decode(UnsafeRawBufferPointer(input), into: UnsafeMutableRawBufferPointer(out)) else {
                failed = true
                count = 0
                return
            }
            count = n
        }
        return failed ? nil : result
    }

    /// Decodes whole groups of plain alphabet from `i` on, 16 or 8 characters per step,
    /// and stops at the first word holding anything else; the new offsets. The 8-byte
    /// store's last two bytes are overwritten by the next step or fall in the slack.
    @inline(__always)
    private static func decodeWords(
        _ src: UnsafeRawPointer, _ n: Int, from start: Int, _ dst: UnsafeMutableRawPointer, at out: Int,
        _ table: UnsafeBufferPointer<UInt32>
    ) -> (Int, Int) {
        // Two groups of four characters as 24 bits each, with `invalid` set for a character
        // outside the alphabet.
        @inline(__always) func groups(_ x: UInt64) -> (UInt32, UInt32) {
            let high = table[Int(truncatingIfNeeded: x & 0xFF)]
                | table[256 &+ Int(truncatingIfNeeded: x >> 8 & 0xFF)]
                | table[512 &+ Int(truncatingIfNeeded: x >> 16 & 0xFF)]
                | table[768 &+ Int(truncatingIfNeeded: x >> 24 & 0xFF)]
            let low = table[Int(truncatingIfNeeded: x >> 32 & 0xFF)]
                | table[256 &+ Int(truncatingIfNeeded: x >> 40 & 0xFF)]
                | table[512 &+ Int(truncatingIfNeeded: x >> 48 & 0xFF)]
                | table[768 &+ Int(truncatingIfNeeded: x >> 56)]
            return (high, low)
        }
        @inline(__always) func store(_ g: (UInt32, UInt32), at o: Int) {
            let word = (UInt64(g.0) << 24 | UInt64(g.1)) << 16
            dst.storeBytes(of: word.bigEndian, toByteOffset: o, as: UInt64.self)
        }
        var i = start
        var o = out
        // Offsets stay below n and the output's size, so they cannot overflow.
        while i &+ 16 <= n {
            let a = groups(UInt64(littleEndian: src.loadUnaligned(fromByteOffset: i, as: UInt64.self)))
            let b = groups(UInt64(littleEndian: src.loadUnaligned(fromByteOffset: i &+ 8, as: UInt64.self)))
            guard (a.0 | a.1 | b.0 | b.1) & invalid == 0 else { break }
            store(a, at: o)
            store(b, at: o &+ 6)
            i &+= 16
            o &+= 12
        }
        while i &+ 8 <= n {
            let a = groups(UInt64(littleEndian: src.loadUnaligned(fromByteOffset: i, as: UInt64.self)))
            guard (a.0 | a.1) & invalid == 0 else { break }
            store(a, at: o)
            i &+= 8
            o &+= 6
        }
        return (i, o)
    }

    /// Decodes `input` into the start of `output`, which holds at least
    /// `decodedCapacity(input.count)` bytes; the number of bytes decoded, or nil when
    /// `input` is not base64. Whitespace is skipped and padding is optional.
    public static func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int? {
        let n = input.count
        precondition(output.count >= decodedCapacity(n), "base64 output buffer too small")
        guard n > 0, let src = input.baseAddress, let dst = output.baseAddress else { return 0 }
        return decodeTables.withUnsafeBufferPointer { table -> Int? in
            var i = 0
            var o = 0
            var quad: UInt32 = 0
            var filled = 0
            var padding = 0
            while i < n {
                if filled == 0 && padding == 0 {
                    (i, o) = decodeWords(src, n, from: i, dst, at: o, table)
                    guard i < n else { break }
                }
                // One character at a time, until a group is complete again.
                let c = src.load(fromByteOffset: i, as: UInt8.self)
                i += 1
                let v = table[768 + Int(c)]
                if v == invalid {
                    switch c {
                    case 0x20, 0x09, 0x0A, 0x0D: continue
                    case UInt8(ascii: "="):
                        padding += 1
                        continue
                    default:
                        return nil
                    }
                }
                if padding > 0 { return nil }
                quad = quad << 6 | v
                filled += 1
                if filled == 4 {
                    dst.storeBytes(of: UInt8(truncatingIfNeeded: quad >> 16), toByteOffset: o, as: UInt8.self)
                    dst.storeBytes(of: UInt8(truncatingIfNeeded: quad >> 8), toByteOffset: o + 1, as: UInt8.self)
                    dst.storeBytes(of: UInt8(truncatingIfNeeded: quad), toByteOffset: o + 2, as: UInt8.self)
                    o += 3
                    quad = 0
                    filled = 0
                }
            }
            switch filled {
            case 0: break
            case 2:
                dst.storeBytes(of: UInt8(truncatingIfNeeded: quad >> 4), toByteOffset: o, as: UInt8.self)
                o += 1
            case 3:
                dst.storeBytes(of: UInt8(truncatingIfNeeded: quad >> 10), toByteOffset: o, as: UInt8.self)
                dst.storeBytes(of: UInt8(truncatingIfNeeded: quad >> 2), toByteOffset: o + 1, as: UInt8.self)
                o += 2
            default: return nil
            }
            return o
        }
    }
}
