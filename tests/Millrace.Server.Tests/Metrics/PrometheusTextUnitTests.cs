namespace Millrace.Server.Tests.Metrics;

/// <summary>The writer's output parses back exactly, awkward names and values included; the parser rejects what the format forbids.</summary>
public sealed class PrometheusTextUnitTests
{
    [Fact]
    public void Given_awkward_label_values_and_names_When_written_Then_the_strict_parser_reads_them_back()
    {
        var text = new PrometheusText();
        text.Family("millrace_test_total", "counter", "Help with a \\ backslash\nand a newline.");
        text.Sample("millrace_test_total", [new("queue", "a\"b\\c\nd"), new(PrometheusText.Name("bad.label-name", label: true), "x")], 3);
        text.Family(PrometheusText.Name("millrace.weird name:x"), "gauge", "g");
        text.Sample(PrometheusText.Name("millrace.weird name:x"), [], double.PositiveInfinity);

        var families = PrometheusParser.Parse(text.ToString());

        var sample = Assert.Single(families["millrace_test_total"].Samples);
        Assert.Equal("a\"b\\c\nd", sample.Label("queue"));
        Assert.Equal("x", sample.Label("bad_label_name"));
        Assert.Equal(3, sample.Value);
        Assert.Equal("Help with a \\ backslash\nand a newline.", families["millrace_test_total"].Help);
        Assert.True(double.IsPositiveInfinity(families["millrace_weird_name:x"].Samples[0].Value));
    }

    [Theory]
    [InlineData("m{a=\"1\"} 1", "end with a line feed")]
    [InlineData("1m 1\n", "not a metric name")]
    [InlineData("m{a=1} 1\n", "not quoted")]
    [InlineData("m{a=\"x\\t\"} 1\n", "invalid escape")]
    [InlineData("m one\n", "not a value")]
    [InlineData("# TYPE m counter\n# TYPE m counter\nm 1\n", "TYPE must come once")]
    [InlineData("a 1\nb 1\na{x=\"1\"} 1\n", "not contiguous")]
    [InlineData("m 1\nm 2\n", "duplicate series")]
    [InlineData("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n", "not cumulative")]
    [InlineData("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 1\n", "differs from the +Inf bucket")]
    public void Given_text_that_breaks_the_format_When_parsed_Then_the_parser_says_why(string text, string why)
    {
        var error = Assert.Throws<FormatException>(() => PrometheusParser.Parse(text));
        Assert.Contains(why, error.Message, StringComparison.Ordinal);
    }
}
