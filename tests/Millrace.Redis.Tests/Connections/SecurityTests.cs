using Millrace.Redis.Tests.Support;

namespace Millrace.Redis.Tests.Connections;

/// <summary>ACL users, passwords and TLS against the real ACL and TLS servers of the test topology.</summary>
public sealed class SecurityTests
{
    [Theory]
    [InlineData(RedisProtocol.Resp2)]
    [InlineData(RedisProtocol.Resp3)]
    public async Task An_ACL_user_with_the_right_password_connects(RedisProtocol protocol)
    {
        var options = await RedisTopology.AclOptionsAsync();
        options.Protocol = protocol;
        options.ClientName = "acl-test";
        await using var redis = await RedisClient.ConnectAsync(options);

        var whoami = await redis.ExecuteAsync(new RedisCommand("ACL", ["WHOAMI"]));
        var name = await redis.ExecuteAsync(new RedisCommand("CLIENT", ["GETNAME"]));

        Assert.Equal(RedisTopology.AclUser, whoami.AsString());
        Assert.Equal("acl-test", name.AsString());
    }

    [Theory]
    [InlineData(RedisProtocol.Resp2)]
    [InlineData(RedisProtocol.Resp3)]
    public async Task A_wrong_password_gives_a_clear_authentication_error(RedisProtocol protocol)
    {
        var options = await RedisTopology.AclOptionsAsync(password: "not-the-password");
        options.Protocol = protocol;

        var error = await Assert.ThrowsAsync<RedisAuthenticationException>(() => RedisClient.ConnectAsync(options).WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Contains("refused the login of user 'millrace'", error.Message, StringComparison.Ordinal);
        Assert.Contains("WRONGPASS", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-password", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_password_against_a_server_that_needs_one_says_so()
    {
        await RedisTopology.EnsureAsync("acl");
        var options = new RedisOptions();
        options.Endpoints.Add(RedisTopology.Acl);

        var error = await Assert.ThrowsAsync<RedisAuthenticationException>(() => RedisClient.ConnectAsync(options).WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Contains("requires a password", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(RedisProtocol.Resp2)]
    [InlineData(RedisProtocol.Resp3)]
    public async Task TLS_with_the_servers_CA_works_for_commands_and_blocking_reads(RedisProtocol protocol)
    {
        var options = await RedisTopology.TlsOptionsAsync();
        options.Protocol = protocol;
        await using var redis = await RedisClient.ConnectAsync(options);
        var key = TestKeys.Unique("tls");

        await redis.XGroupCreateAsync(key, "g", "$");
        await redis.XAddAsync(key, [new StreamField("f", "secret")]);
        var read = await redis.XReadGroupAsync(key, "g", "c", block: TimeSpan.FromSeconds(2));

        Assert.Equal("secret", Assert.Single(read).GetString("f"));
    }

    [Fact]
    public async Task TLS_without_trusting_the_servers_CA_is_refused_clearly()
    {
        var options = await RedisTopology.TlsOptionsAsync();
        options.TlsCaFile = null;   // the test CA is not a system authority

        var error = await Assert.ThrowsAsync<RedisConnectionException>(() => RedisClient.ConnectAsync(options).WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Contains("TLS handshake", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TLS_to_a_server_name_the_certificate_does_not_cover_is_refused()
    {
        var options = await RedisTopology.TlsOptionsAsync();
        options.TlsHost = "not-this-server.example";

        var error = await Assert.ThrowsAsync<RedisConnectionException>(() => RedisClient.ConnectAsync(options).WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Contains("TLS handshake", error.Message, StringComparison.Ordinal);
    }
}
