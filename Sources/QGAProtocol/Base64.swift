/// Standard base64 (RFC 4648, with padding), as the agent's `buf-b64`, `input-data`,
/// `out-data` and `password` fields carry it.
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    private static let reverse: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = UInt8(i) }
        return table
    }()

    /// Encodes bytes.
    public static func encode(_ bytes: some Collection<UInt8>) -> String { encode(Array(bytes)) }

    /// Encodes bytes.
    public static func encode(_ bytes: [UInt8]) -> String {
        let input = bytes
        let length = (input.count + 2) / 3 * 4
        return String(unsafeUninitializedCapacity: length) { out in
            input.withUnsafeBufferPointer { inp in
                alphabet.withUnsafeBufferPointer { abc in
                    var i = 0
                    var o = 0
                    while i + 3 <= inp.count {
                        let v = UInt32(inp[i]) << 16 | UInt32(inp[i + 1]) << 8 | UInt32(inp[i + 2])
                        out[o] = abc[Int(v >> 18 & 0x3F)]
                        out[o + 1] = abc[Int(v >> 12 & 0x3F)]
                        out[o + 2] = abc[Int(v >> 6 & 0x3F)]
                        out[o + 3] = abc[Int(v & 0x3F)]
                        i += 3
                        o += 4
                    }
                    let rest = inp.count - i
                    if rest > 0 {
                        let b1 = rest > 1 ? UInt32(inp[i + 1]) : 0
                        let v = UInt32(inp[i]) << 16 | b1 << 8
                        out[o] = abc[Int(v >> 18 & 0x3F)]
                        out[o + 1] = abc[Int(v >> 12 & 0x3F)]
                        out[o + 2] = rest > 1 ? abc[Int(v >> 6 & 0x3F)] : UInt8(ascii: "=")
                        out[o + 3] = UInt8(ascii: "=")
                    }
                }
            }
            return length
        }
    }

    /// Decodes text; whitespace is skipped, padding is optional; nil for anything else.
    public static func decode(_ text: String) -> [UInt8]? {
        var text = text
        return text.withUTF8 { decode(bytes: $0) }
    }

    /// Decodes base64 bytes in one pass over raw buffers (file payloads are megabytes).
    public static func decode(bytes input: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        var failed = false
        let result = [UInt8](unsafeUninitializedCapacity: input.count / 4 * 3 + 3) { out, count in
            reverse.withUnsafeBufferPointer { table in
                var quad: UInt32 = 0
                var filled = 0
                var padding = 0
                var o = 0
                var i = 0
                let n = input.count
                while i < n {
                    // The fast path: four alphabet characters at a time (nearly all of a
                    // payload); whitespace, padding or anything else takes the loop below.
                    if filled == 0 && padding == 0 {
                        while i + 4 <= n {
                            let a = table[Int(input[i])], b = table[Int(input[i + 1])]
                            let c = table[Int(input[i + 2])], d = table[Int(input[i + 3])]
                            if (a | b | c | d) & 0xC0 != 0 { break }
                            let v = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                            out[o] = UInt8(truncatingIfNeeded: v >> 16)
                            out[o + 1] = UInt8(truncatingIfNeeded: v >> 8)
                            out[o + 2] = UInt8(truncatingIfNeeded: v)
                            o += 3
                            i += 4
                        }
                        if i == n { break }
                    }
                    let c = input[i]
                    i += 1
                    let v = table[Int(c)]
                    if v == 0xFF {
                        switch c {
                        case 0x20, 0x09, 0x0A, 0x0D: continue
                        case UInt8(ascii: "="):
                            padding += 1
                            continue
                        default:
                            failed = true
                            return
                        }
                    }
                    if padding > 0 {
                        failed = true
                        return
                    }
                    quad = quad << 6 | UInt32(v)
                    filled += 1
                    if filled == 4 {
                        out[o] = UInt8(truncatingIfNeeded: quad >> 16)
                        out[o + 1] = UInt8(truncatingIfNeeded: quad >> 8)
                        out[o + 2] = UInt8(truncatingIfNeeded: quad)
                        o += 3
                        quad = 0
                        filled = 0
                    }
                }
                switch filled {
                case 0: break
                case 2:
                    out[o] = UInt8(truncatingIfNeeded: quad >> 4)
                    o += 1
                case 3:
                    out[o] = UInt8(truncatingIfNeeded: quad >> 10)
                    out[o + 1] = UInt8(truncatingIfNeeded: quad >> 2)
                    o += 2
                default: failed = true
                }
                count = failed ? 0 : o
            }
        }
        return failed ? nil : result
    }
}
