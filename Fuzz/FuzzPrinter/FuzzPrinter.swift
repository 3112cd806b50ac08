import Glibc
import QGAProtocol
import FuzzSupport

/// The printers (pretty, compact, spaced; plain and coloured; streamed; the escaping of
/// guest text for a terminal) on values parsed from arbitrary bytes, and on arbitrary text.
///
/// Invariants: no output holds a character that acts on a terminal (C0 and C1 controls,
/// DEL, line separators, bidirectional controls) other than the layout's own line breaks
/// and the palette's colour sequences; coloured output is the plain output plus colours;
/// streamed output is the same as the one-piece output; pretty output stays within ten
/// times the compact size.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = input(data, size)

    // Any text, as a guest may send it (lossy: what a String can hold).
    let text = String(decoding: bytes, as: UTF8.self)
    var escaped: [UInt8] = []
    JSONPrinter.writeEscapingUnsafe(text, into: &escaped)
    checkSafe(escaped, newlines: false, "writeEscapingUnsafe")
    var quoted: [UInt8] = []
    JSONPrinter.writeString(text, into: &quoted)
    checkSafe(quoted, newlines: false, "writeString")
    check((try? JSONParser.parse(quoted)) == .string(text), "a printed string does not parse back")

    guard let value = try? JSONParser.parse(bytes, singleQuotes: true) else { return 0 }
    let compactSize = JSONPrinter(layout: .compact).bytes(value).count
    let palette = JSONPrinter.Palette()
    for layout in [JSONPrinter.Layout.compact, .spaced, .pretty] {
        let plain = JSONPrinter(layout: layout).bytes(value)
        checkSafe(plain, newlines: layout == .pretty, "\(layout)")
        check(plain.count < 10 * compactSize, "\(layout) output \(plain.count) bytes for \(compactSize) compact")
        let coloured = JSONPrinter(layout: layout, palette: palette).bytes(value)
        check(removingColours(coloured, palette) == plain, "coloured \(layout) output is not the plain one plus colours")
        // Streamed in small chunks, as `qga` prints to a pipe.
        var streamed: [UInt8] = []
        JSONPrinter(layout: layout).write(value, terminator: [0x0A], chunkSize: 16) { streamed += $0 }
        check(streamed == plain + [0x0A], "streamed \(layout) output differs")
    }
    return 0
}

/// Fails on any byte sequence that could act on a terminal or reorder text.
private func checkSafe(_ output: [UInt8], newlines: Bool, _ what: String) {
    guard let text = String(validating: output, as: UTF8.self) else { fail("\(what): output is not UTF-8") }
    for scalar in text.unicodeScalars where JSONPrinter.isUnsafe(scalar) {
        if newlines && scalar == "\n" { continue }
        fail("\(what): output holds U+\(String(scalar.value, radix: 16))")
    }
}

private func removingColours(_ bytes: [UInt8], _ palette: JSONPrinter.Palette) -> [UInt8] {
    let sequences = [palette.key, palette.string, palette.number, palette.literal, palette.null, palette.reset]
        .map { Array($0.utf8) }.sorted { $0.count > $1.count }
    var out: [UInt8] = []
    var i = 0
    outer: while i < bytes.count {
        if bytes[i] == 0x1B {
            for sequence in sequences where bytes[i...].starts(with: sequence) {
                i += sequence.count
                continue outer
            }
            fail("an escape byte that starts no colour")
        }
        out.append(bytes[i])
        i += 1
    }
    return out
}
