import QGAProtocol
import Testing

/// The printer against hostile values: deep nesting must not multiply the output, and
/// printing must stream.
@Suite struct JSONPrinterSafetyTests {
    /// `inner` wrapped in `depth` single-element arrays.
    static func nested(_ inner: JSONValue, depth: Int) -> JSONValue {
        var value = inner
        for _ in 0..<depth { value = .array([value]) }
        return value
    }

    static func compactSize(_ value: JSONValue) -> Int { JSONPrinter(layout: .compact).bytes(value).count }

    @Test func deepNestingIsCompactPastTheIndentLimit() throws {
        let value = Self.nested(.number(JSONNumber(0)), depth: 1000)
        let pretty = JSONPrinter().bytes(value)
        let widest = pretty.split(separator: 0x0A).map { $0.prefix { $0 == 0x20 }.count }.max() ?? 0
        #expect(widest == 2 * JSONPrinter.indentLimit)
        #expect(pretty.count < 10 * Self.compactSize(value))
        #expect(try JSONParser.parse(pretty) == value)
    }

    @Test func theIndentLimitKeepsShallowRepliesAsTheyWere() throws {
        // Level 6 is the first that stays on one line, with compact spacing.
        let value = try JSONParser.parse(#"[[[[[{"a":[{"b":1,"c":[2]}]}]]]]]"#)
        #expect(JSONPrinter().string(value) == """
            [
              [
                [
                  [
                    [
                      {
                        "a": [{"b":1,"c":[2]}]
                      }
                    ]
                  ]
                ]
              ]
            ]
            """)
    }

    /// The shapes that cost the most newlines and indentation per byte of input, at every
    /// depth around the limit: pretty output stays under ten times the compact text.
    @Test(arguments: [
        "0", "[]", "{}", "[0]", #"{"":0}"#, #"{"":[0]}"#, "[[0]]", #"[{"":0}]"#, "[0,0]", #""""#,
    ])
    func prettyOutputIsASmallMultipleOfTheInput(_ shape: String) throws {
        let element = try JSONParser.parse(shape)
        for depth in 0...(JSONPrinter.indentLimit + 2) {
            let value = Self.nested(.array(Array(repeating: element, count: 200)), depth: depth)
            let ratio = Double(JSONPrinter().bytes(value).count) / Double(Self.compactSize(value))
            #expect(ratio < 10, "\(shape) at depth \(depth): \(ratio)")
        }
    }

    @Test func streamsInBoundedChunks() throws {
        let row: JSONValue = .object(["name": .string(String(repeating: "x", count: 100)), "n": .number(JSONNumber(7))])
        let value: JSONValue = .array(Array(repeating: row, count: 5000))
        for printer in [JSONPrinter(), JSONPrinter(layout: .compact), JSONPrinter(palette: JSONPrinter.Palette())] {
            var chunks: [[UInt8]] = []
            printer.write(value, terminator: [0x0A], chunkSize: 4096) { chunks.append($0) }
            #expect(chunks.count > 10)
            // A chunk is handed on once it reaches the size, so it exceeds it by less than
            // one member of the array.
            #expect(chunks.allSatisfy { $0.count < 4096 + 400 })
            #expect(Array(chunks.joined()) == printer.bytes(value) + [0x0A])
        }
    }

    @Test func aFailingSinkStopsThePrinting() {
        struct Full: Error {}
        let value: JSONValue = .array(Array(repeating: .string(String(repeating: "y", count: 1000)), count: 1000))
        var calls = 0
        #expect(throws: Full.self) {
            try JSONPrinter().write(value, chunkSize: 4096) { (_: [UInt8]) throws(Full) in
                calls += 1
                throw Full()
            }
        }
        #expect(calls == 1)
    }
}
