import Glibc
import QGAProtocol
import FuzzSupport

/// The framer and the JSON parser on arbitrary bytes, as a hostile peer sends them.
///
/// Invariants: framing does not depend on how the bytes are split into reads; every framed
/// message the parser accepts survives print -> parse unchanged in each layout; the agent's
/// dialect (single quotes) accepts whatever the strict parser accepts, with the same value.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = input(data, size)
    // Small limits, so that the fuzzer reaches them with short inputs.
    let makeFramer = { Framer(maxMessageSize: 512, maxDepth: 16, maxTokens: 64) }

    var whole = makeFramer()
    let events = whole.feed(bytes)
    // The same bytes in reads of a size taken from the first byte, and one by one.
    var chunked = makeFramer()
    var chunkedEvents: [Framer.Event] = []
    let step = Int(bytes.first ?? 1) % 7 + 1
    var start = 0
    while start < bytes.count {
        chunkedEvents += chunked.feed(Array(bytes[start..<min(start + step, bytes.count)]))
        start += step
    }
    check(comparable(events) == comparable(chunkedEvents), "framing depends on the read size \(step): \(summary(events)) vs \(summary(chunkedEvents))")
    check(junkCount(events) == junkCount(chunkedEvents), "junk count depends on the read size")
    check(whole.isInsideMessage == chunked.isInsideMessage, "framer state depends on the read size")

    for case .message(let message) in events {
        check(message.count <= 512, "a message over the size limit")
        roundTrip(message)
    }
    // The whole input as one text too (most fuzz inputs are not framed messages).
    roundTrip(bytes)
    _ = try? JSONParser.parseFirstAsQEMU(bytes)
    return 0
}

private func roundTrip(_ bytes: [UInt8]) {
    let strict = try? JSONParser.parse(bytes)
    let dialect = try? JSONParser.parse(bytes, singleQuotes: true)
    if let strict {
        check(dialect == strict, "the agent's dialect reads strict JSON differently")
    }
    guard let value = dialect else { return }
    for layout in [JSONPrinter.Layout.compact, .spaced, .pretty] {
        let text = JSONPrinter(layout: layout).bytes(value)
        guard let again = try? JSONParser.parse(text) else {
            fail("printed \(layout) JSON does not parse: \(String(decoding: text, as: UTF8.self))")
        }
        check(again == value, "print -> parse changed the value (\(layout))")
    }
    // What the two sides build from a message must not trap either.
    _ = try? Request(value)
    _ = try? Incoming(value)
}

private func summary(_ events: [Framer.Event]) -> String {
    events.map {
        switch $0 {
        case .message(let m): "message(\(m.count))"
        case .delimiter: "delimiter"
        case .junk(_, let count): "junk(\(count))"
        case .error(let e): "error(\(e.message))"
        }
    }.joined(separator: " ")
}

/// Events with junk left out: junk is reported per read, so its pieces depend on the split.
private func comparable(_ events: [Framer.Event]) -> [Framer.Event] {
    events.filter { if case .junk = $0 { false } else { true } }
}

private func junkCount(_ events: [Framer.Event]) -> Int {
    events.reduce(0) { if case .junk(_, let count) = $1 { $0 + count } else { $0 } }
}
