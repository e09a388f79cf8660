using Millrace.Redis;
using Millrace.Redis.Tests.Support;
using Xunit.Abstractions;

namespace Millrace.Tests.Publishing.Backup;

/// <summary>
/// What the Millrace Redis client throws when Redis is down or stalls, against a real private
/// redis-server, and how the backup producer reads it: "never sent" is journaled; "maybe sent"
/// follows <see cref="BackupJournalOptions.AmbiguousFailure"/>.
/// </summary>
public sealed class PublishFailureTests(ITestOutputHelper output)
{
    private static readonly RedisCommand Add = new("XADD", ["s", "*", "f", "v"]);

    [Fact]
    public async Task Given_a_stopped_server_When_commands_are_sent_Then_every_failure_reads_as_never_sent()
    {
        await using var server = await RedisServerProcess.StartAsync();
        await using var client = RedisClient.Create(BackupKit.OptionsFor(server));
        await client.ExecuteAsync(new RedisCommand("PING", []));
        await server.KillAsync();

        // The first call finds the connection gone and fails to reconnect; the next ones fail fast during the backoff.
        for (var i = 0; i < 5; i++)
        {
            var error = await Assert.ThrowsAnyAsync<RedisException>(() => client.ExecuteBatchAsync([Add]));
            output.WriteLine($"{error.GetType().Name}: {error.Message}");
            Assert.IsType<RedisConnectionException>(error);
            Assert.Equal(PublishFailureKind.NotSent, PublishFailure.Classify(error, 1));
        }
    }

    [Fact]
    public async Task Given_a_server_that_does_not_answer_in_time_When_a_write_times_out_Then_it_reads_as_maybe_sent_and_it_does_run_later()
    {
        await using var server = await RedisServerProcess.StartAsync();
        var options = BackupKit.OptionsFor(server);
        options.CommandTimeout = TimeSpan.FromSeconds(2);
        await using var client = RedisClient.Create(options);
        await using var admin = RedisClient.Create(BackupKit.OptionsFor(server));
        await client.ExecuteAsync(new RedisCommand("PING", []));   // connected: the timeout below is the XADD's own
        // The XADD times out at 2 to 2.4 s; the pause ends at 3 s; the client would drop the silent connection
        // (and Redis discard the unrun XADD) only after 4 s. Wide margins: no timing race on a loaded machine.
        await admin.ExecuteAsync(new RedisCommand("CLIENT", ["PAUSE", "3000", "WRITE"]));

        var error = await Assert.ThrowsAsync<RedisTimeoutException>(() => client.ExecuteBatchAsync([Add]));

        output.WriteLine(error.Message);
        Assert.Equal(PublishFailureKind.MaybeSent, PublishFailure.Classify(error, 1));
        // Why "maybe" is the honest answer: the write that "failed" runs when the pause ends.
        await Eventually.GetAsync(async () => (await admin.ExecuteAsync(new RedisCommand("XLEN", ["s"]))).AsInt64(), n => n == 1, TimeSpan.FromSeconds(10), "the timed-out XADD to run after the pause");
    }

    [Fact]
    public async Task Given_a_write_waiting_for_its_reply_When_the_server_dies_Then_it_reads_as_maybe_sent()
    {
        await using var server = await RedisServerProcess.StartAsync();
        var options = BackupKit.OptionsFor(server);
        options.ClientName = "in-flight";
        await using var client = RedisClient.Create(options);
        await using var admin = RedisClient.Create(BackupKit.OptionsFor(server));
        await admin.ExecuteAsync(new RedisCommand("CLIENT", ["PAUSE", "5000", "WRITE"]));
        var inFlight = client.ExecuteBatchAsync([Add]);
        await BlockedClients.WaitUntilBlockedAsync(admin, "in-flight");   // the XADD reached the server and waits there

        await server.KillAsync();

        var error = await Assert.ThrowsAnyAsync<RedisException>(() => inFlight);
        output.WriteLine($"{error.GetType().Name}: {error.Message}");
        Assert.Equal(PublishFailureKind.MaybeSent, PublishFailure.Classify(error, 1));
    }

    [Fact]
    public void Given_errors_that_are_not_outages_When_classified_Then_the_caller_gets_them()
    {
        Assert.Equal(PublishFailureKind.NotAnOutage, PublishFailure.Classify(new RedisServerException("WRONGTYPE Operation against a key holding the wrong kind of value"), 1));
        Assert.Equal(PublishFailureKind.NotAnOutage, PublishFailure.Classify(new RedisAuthenticationException("WRONGPASS"), 1));
        Assert.Equal(PublishFailureKind.NotAnOutage, PublishFailure.Classify(new ArgumentException("bad queue"), 1));
        Assert.Equal(PublishFailureKind.NotAnOutage, PublishFailure.Classify(new OperationCanceledException(), 1));
        Assert.Equal(PublishFailureKind.NotSent, PublishFailure.Classify(new RedisServerException("LOADING Redis is loading the dataset in memory"), 1));
        Assert.Equal(PublishFailureKind.MaybeSent, PublishFailure.Classify(new RedisServerException("LOADING Redis is loading the dataset in memory"), 2));
    }
}
