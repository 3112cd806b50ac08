import QGAProtocol
import Testing

@testable import QGAExporter

/// The `return` value of a canned reply.
func returned(_ agent: [String: String], _ command: String) throws -> JSONValue {
    let text = try #require(agent[command], "no canned \(command)")
    let reply = try JSONParser.parse(Array(text.utf8))
    return try #require(reply["return"], "\(command) has no return value")
}

extension Canned {
    static let agents = ["qemu-ga", "qgad"]
    static func replies(_ agent: String) -> [String: String] { agent == "qgad" ? qgad : qemuGA }
}

@Suite struct DecodeTests {
    @Test(arguments: Canned.agents)
    func filesystems(_ agent: String) throws {
        let replies = Canned.replies(agent)
        let samples = Decode.fsinfo(try returned(replies, "guest-get-fsinfo"))
        let labels = ["/", "ext4", "vda"]
        let size = try #require(samples.first { $0.metric == .filesystemSizeBytes })
        let used = try #require(samples.first { $0.metric == .filesystemUsedBytes })
        let free = try #require(samples.first { $0.metric == .filesystemFreeBytes })
        #expect(size.labels == labels && used.labels == labels && free.labels == labels)
        // total-bytes, not total-bytes-privileged (qgad sends both, qemu-ga 7.2 only the first).
        #expect(size.value == 101_443_186_688)
        #expect(free.value == size.value - used.value)
        #expect(samples.count == 3)
    }

    @Test func loadOnlyFromAgentsThatHaveIt() throws {
        let info = try #require(Decode.supportedCommands(try returned(Canned.qemuGA, "guest-info")))
        #expect(!info.contains("guest-get-load"))
        #expect(info.contains("guest-get-fsinfo"))
        #expect(Canned.qemuGA["guest-get-load"]?.contains("CommandNotFound") == true)
        let load = Decode.load(try returned(Canned.qgad, "guest-get-load"))
        #expect(load.map(\.metric) == [.load1, .load5, .load15])
        #expect(load.allSatisfy { $0.value > 0 && $0.labels.isEmpty })
    }

    @Test(arguments: Canned.agents)
    func cpuSeconds(_ agent: String) throws {
        let replies = Canned.replies(agent)
        let value = try returned(replies, "guest-get-cpustats")
        let samples = Decode.cpustats(value)
        let cpus = try #require(value.array).count
        // Eight modes per CPU; guest and guestnice are already in user and nice.
        #expect(samples.count == cpus * 8)
        #expect(!samples.contains { $0.labels[1] == "guest" || $0.labels[1] == "guestnice" })
        let user = try #require(value.array?.first?["user"]?.number?.double)
        #expect(samples.first { $0.labels == ["0", "user"] }?.value == user / 1000)
    }

    @Test(arguments: Canned.agents)
    func disks(_ agent: String) throws {
        let replies = Canned.replies(agent)
        let value = try returned(replies, "guest-get-diskstats")
        let samples = Decode.diskstats(value)
        let vda = try #require(value.array?.first { $0["name"]?.string == "vda" }?["stats"])
        let sectors = try #require(vda["read-sectors"]?.number?.double)
        #expect(samples.first { $0.metric == .diskReadBytesTotal && $0.labels == ["vda"] }?.value == sectors * 512)
        let ticks = try #require(vda["total-ticks"]?.number?.double)
        #expect(samples.first { $0.metric == .diskIOTimeSecondsTotal && $0.labels == ["vda"] }?.value == ticks / 1000)
        #expect(Set(samples.map(\.labels)) == [["loop0"], ["vda"]])
    }

    @Test(arguments: Canned.agents)
    func interfaces(_ agent: String) throws {
        let replies = Canned.replies(agent)
        let samples = Decode.interfaces(try returned(replies, "guest-network-get-interfaces"))
        // ifb0 has no statistics at all: no series rather than zeros.
        #expect(Set(samples.map(\.labels)) == [["lo"], ["eth0"]])
        #expect(samples.count == 16)
        #expect(samples.first { $0.metric == .networkReceiveBytesTotal && $0.labels == ["lo"] }?.value == 581_912)
    }

    @Test(arguments: Canned.agents)
    func usersVCPUsOSAndVersion(_ agent: String) throws {
        let replies = Canned.replies(agent)
        #expect(Decode.users(try returned(replies, "guest-get-users")) == [Sample(.users, [], 0)])
        #expect(
            Decode.vcpus(try returned(replies, "guest-get-vcpus")) == [Sample(.vcpus, ["online"], 2), Sample(.vcpus, ["offline"], 0)])
        let os = Decode.osinfo(try returned(replies, "guest-get-osinfo"))
        #expect(os == [Sample(.osInfo, ["debian", "Debian GNU/Linux", "Debian GNU/Linux 12 (bookworm)", "12", "6.18.44-fc-v1045", "x86_64"], 1)])
        let version = try #require(Decode.info(try returned(replies, "guest-info")).first)
        #expect(version.metric == .agentInfo && !version.labels[0].isEmpty)
        #expect(Decode.frozen(try returned(replies, "guest-fsfreeze-status")) == false)
    }

    @Test func hostileRepliesAreBounded() throws {
        // Wrong shapes give nothing, not a failure.
        for command in Decode.slowCommands + Decode.fastCommands {
            for junk in [JSONValue.null, .string("x"), .number(JSONNumber(1)), .array([.null, .string("x")]), .object([:])] {
                _ = Decode.samples(command, junk)
            }
        }
        // Negative, fractional-but-absurd and overflowing numbers are left out.
        let fs = try JSONParser.parse(Array(#"""
            [{"name":"a","mountpoint":"/a","type":"x","total-bytes":-1,"used-bytes":1},
             {"name":"b","mountpoint":"/b","type":"x","total-bytes":1e999,"used-bytes":1},
             {"name":"c","mountpoint":"/c","type":"x","total-bytes":10,"used-bytes":20},
             {"name":"d","mountpoint":"/d","type":"x"}]
            """#.utf8))
        let samples = Decode.fsinfo(fs)
        #expect(Set(samples.map { $0.labels[0] }) == ["/c"])
        // used above total: free is 0, not negative.
        #expect(samples.first { $0.metric == .filesystemFreeBytes }?.value == 0)
        // At most maxEntries entries of one reply.
        let many = JSONValue.array(
            (0..<(Decode.maxEntries + 500)).map { i in
                .object(["name": .string("d\(i)"), "stats": .object(["read-ios": .number(JSONNumber(i))])])
            })
        #expect(Decode.diskstats(many).count == Decode.maxEntries)
    }
}
