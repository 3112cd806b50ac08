import QGAExporter
import Testing

@Suite struct ListenAddressTests {
    @Test func parses() {
        #expect(ListenAddress(parsing: ":9942")?.host == "")
        #expect(ListenAddress(parsing: ":9942")?.port == 9942)
        #expect(ListenAddress(parsing: "127.0.0.1:80")?.host == "127.0.0.1")
        #expect(ListenAddress(parsing: "[::1]:80")?.host == "::1")
        #expect(ListenAddress(parsing: "localhost:0")?.port == 0)
        for bad in ["", "9942", ":", "host:", ":65536", ":-1", "::1:80", "[::1:80", "a b:1", ":+80"] {
            #expect(ListenAddress(parsing: bad) == nil, "\(bad)")
        }
    }
}
