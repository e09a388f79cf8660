using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Millrace.Tests.Retention;

/// <summary>Retention presets, configuration binding and validation (no server needed).</summary>
public sealed class RetentionPolicyUnitTests
{
    [Theory]
    [InlineData("critical", 7 * 24 * 60, 100_000)]
    [InlineData("High", 24 * 60, 10_000)]
    [InlineData("NORMAL", 60, 1000)]
    [InlineData(" low ", 5, 0)]
    public void Given_a_retention_class_name_When_looked_up_Then_its_preset_is_returned(string name, int minutes, int minCount)
    {
        var policy = RetentionPolicy.FromName(name);

        Assert.Equal((TimeSpan.FromMinutes(minutes), minCount), (policy.MaxAge, policy.MinCount));
    }

    [Fact]
    public void Given_an_unknown_class_name_When_looked_up_Then_the_error_lists_the_classes()
    {
        var error = Assert.Throws<ArgumentException>(() => RetentionPolicy.FromName("forever"));

        Assert.Contains("'forever' is not a retention class; use one of critical, high, normal, low", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Given_a_preset_When_one_copy_is_changed_Then_the_preset_itself_is_not()
    {
        var mine = RetentionPolicy.High;
        mine.MinCount = 1;

        Assert.Equal(10_000, RetentionPolicy.High.MinCount);
    }

    [Fact]
    public void Given_configuration_naming_a_class_or_giving_values_When_bound_Then_each_queue_gets_its_policy()
    {
        var options = Bind(new()
        {
            ["Millrace:Queues:orders:Retention"] = "high",
            ["Millrace:Queues:thumbs:Retention:MaxAge"] = "00:10:00",
            ["Millrace:Queues:audit:Retention:MinCount"] = "50",
            ["Millrace:Queues:plain:Partitions"] = "2",
            ["Millrace:Retention:Interval"] = "00:00:30",
            ["Millrace:Retention:BatchSize"] = "200",
            ["Millrace:Retention:InactiveGroupTimeout"] = "02:00:00",
        });

        Assert.Equal((TimeSpan.FromHours(24), 10_000), (options.Queues["orders"].Retention!.MaxAge, options.Queues["orders"].Retention!.MinCount));
        Assert.Equal((TimeSpan.FromMinutes(10), 1000), (options.Queues["thumbs"].Retention!.MaxAge, options.Queues["thumbs"].Retention!.MinCount));
        Assert.Equal((TimeSpan.FromHours(1), 50), (options.Queues["audit"].Retention!.MaxAge, options.Queues["audit"].Retention!.MinCount));
        Assert.Null(options.Queues["plain"].Retention);
        Assert.Equal((TimeSpan.FromSeconds(30), 200, TimeSpan.FromHours(2)), (options.Retention.Interval, options.Retention.BatchSize, options.Retention.InactiveGroupTimeout));
    }

    [Fact]
    public void Given_no_retention_configuration_When_bound_Then_the_defaults_apply()
    {
        var options = Bind(new() { ["Millrace:Queues:orders:Partitions"] = "1" });

        Assert.Null(options.Queues["orders"].Retention);
        Assert.Equal((TimeSpan.FromMinutes(1), 1000, TimeSpan.FromHours(24)), (options.Retention.Interval, options.Retention.BatchSize, options.Retention.InactiveGroupTimeout));
    }

    [Fact]
    public void Given_an_unknown_class_in_configuration_When_bound_Then_the_error_names_the_setting()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["orders:Retention"] = "forever" }).Build();

        var error = Assert.Throws<InvalidOperationException>(() => configuration.GetSection("orders").Bind(new QueueOptions()));

        Assert.Contains("'forever' at 'orders:Retention'", error.Message, StringComparison.Ordinal);
        Assert.Contains("is not a retention class", error.InnerException?.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Given_invalid_retention_settings_When_validated_Then_each_failure_names_its_setting()
    {
        var options = new MillraceOptions { Retention = { Interval = TimeSpan.Zero, BatchSize = 0, InactiveGroupTimeout = TimeSpan.FromSeconds(-1) } };
        options.Queues["orders"] = new QueueOptions { Retention = new RetentionPolicy { MaxAge = TimeSpan.FromSeconds(-1), MinCount = -2 } };

        var result = new MillraceOptionsValidator().Validate(null, options);

        Assert.True(result.Failed, "Expected the invalid retention settings to fail validation.");
        var failures = string.Join("\n", result.Failures!);
        foreach (var setting in new[]
        {
            "Millrace:Retention:Interval", "Millrace:Retention:BatchSize", "Millrace:Retention:InactiveGroupTimeout",
            "Millrace:Queues:orders:Retention:MaxAge is", "Millrace:Queues:orders:Retention:MinCount is -2",
        })
        {
            Assert.Contains(setting, failures, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Given_valid_retention_settings_When_validated_Then_they_pass()
    {
        var options = new MillraceOptions { Retention = { InactiveGroupTimeout = null } };
        options.Queues["orders"] = new QueueOptions { Retention = RetentionPolicy.Critical };

        Assert.True(new MillraceOptionsValidator().Validate(null, options).Succeeded);
    }

    private static MillraceOptions Bind(Dictionary<string, string?> values)
    {
        var options = new MillraceOptions();
        MillraceConfiguration.Bind(new ConfigurationBuilder().AddInMemoryCollection(values).Build(), options);
        return options;
    }
}
