import Foundation
import QGAProtocol
import QGATestSupport
import Testing

/// Many targets on the test bed: `--all` over the real libvirtd (the guest's agent through
/// libvirt, the domain without an agent failing on its own), and libvirt and socket
/// targets in one command.
@Suite(.serialized, .enabled(if: TestBed.current != nil, "the VM test bed is not up (scripts/vm-testbed up)"))
struct VMFanOutTests {
    let bed = TestBed.current!

    /// The running domains of the test bed's connection, as virsh lists them.
    func running() throws -> [String] {
        try bed.virsh(["list", "--name", "--state-running"]).stdoutText.split(separator: "\n").map(String.init).sorted()
    }

    @Test func allIsEveryRunningDomain() throws {
        let domains = try running()
        #expect(domains.contains(bed.domain))
        let result = try bed.qga("ping", ["--all", "--json"])
        let lines = result.stdout.split(separator: 0x0A).compactMap { try? JSONParser.parse(Array($0)) }
        #expect(lines.map { $0["target"]?.string ?? "?" } == domains, "\(result)")
        let guest = lines.first { $0["target"]?.string == bed.domain }
        #expect(guest?["return"] == .object([:]), "\(result)")
        if domains.contains(bed.noAgentDomain) {
            let none = lines.first { $0["target"]?.string == bed.noAgentDomain }
            #expect(none?["error"]?["exit"]?.number?.int == 2, "\(result)")
            #expect(result.status == 2)
        }
        let failed = lines.count { $0["error"] != nil }
        #expect(result.status == (failed == 0 ? 0 : 2), "\(result)")
    }

    @Test func runOnTheDomainAndItsDirectSocketAtOnce() throws {
        let result = try bed.qga("run", [bed.domain, bed.directSocket, "--", "uname", "-s"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdoutText == "\(bed.domain): Linux\n\(bed.directSocket): Linux\n", "\(result)")
        let hostnames = try bed.qga("hostname", [bed.domain, bed.directSocket])
        #expect(hostnames.status == 0, "\(hostnames)")
        let rows = hostnames.stdoutText.split(separator: "\n")
        #expect(rows.first?.hasPrefix("TARGET") == true && rows.count == 3, "\(hostnames)")
    }
}
