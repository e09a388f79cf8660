using System.Globalization;
using System.Net;
using Millrace.Redis.Tests.Support;
using Millrace.Server.Tests.Support;
using OpenQA.Selenium;

namespace Millrace.Server.Tests.Browser;

/// <summary>
/// The dashboard in headless Debian chromium against a real server, Redis and in-process worker.
/// These tests also write the screenshots under docs/images that the README shows.
/// </summary>
[Collection("browser")]   // one chromium at a time on a 2-core machine
public sealed class DashboardBrowserTests
{
    private static readonly Dictionary<string, string?> OneSecondSamples = new() { ["Millrace:Server:SampleInterval"] = "00:00:01" };

    [Fact]
    public async Task Given_a_signed_in_operator_When_messages_are_published_Then_the_overview_throughput_chart_moves()
    {
        await using var scenario = await Scenario.StartAsync(OneSecondSamples);
        using var chromium = await Chromium.StartAsync();
        chromium.SignIn(scenario.Server.Address, ServerHost.OperatorKey);
        var chart = chromium.Wait("#chart-throughput");
        chromium.Until(_ => Samples(chart) >= 2, "the live feed to deliver samples");
        Assert.Equal(0, PublishedSum(chart));   // nothing published yet: the chart is flat

        // Publish over a few seconds so the chart shows a shape, and a few failures.
        for (var round = 0; round < 12; round++)
        {
            for (var i = 0; i < 15 + ((round % 6) * 5); i++)
            {
                await scenario.Server.Operator.PostJsonAsync("/api/v1/tasks", """{"queue":"orders","type":"ok","payload":{"n":1}}""", HttpStatusCode.Created);
            }

            if (round % 2 == 1)
            {
                await scenario.PublishAsync("fail");
            }

            await Task.Delay(700);   // spreads the load over samples for the screenshot; not a synchronisation
        }

        chromium.Until(_ => PublishedSum(chart) > 0, "the throughput chart's published series to rise above zero");
        chromium.Until(_ => double.Parse(chart.GetAttribute("data-processed-sum") ?? "0", CultureInfo.InvariantCulture) > 0, "the processed series to rise");
        var series = (long)(chromium.Web.ExecuteScript("return window.millrace.series.filter(s => s.published > 0).length") ?? 0L);
        Assert.True(series > 0, "window.millrace.series holds samples with published > 0");
        chromium.Until(_ => Samples(chart) >= 12, "a dozen samples on the chart for the screenshot");
        chromium.Screenshot("dashboard-overview.png");

        // The queue page: groups, consumers, counts.
        chromium.Web.Navigate().GoToUrl(new Uri(scenario.Server.Address, "/#/queue/orders"));
        chromium.Wait("table.group[data-group='workers']");
        chromium.Screenshot("dashboard-queue.png");
    }

    [Fact]
    public async Task Given_a_dead_lettered_task_When_requeued_from_the_dlq_page_Then_it_shows_as_succeeded()
    {
        await using var scenario = await Scenario.StartAsync(OneSecondSamples);
        await scenario.DeadLetterAsync();
        await scenario.DeadLetterAsync();
        var flaky = await scenario.DeadLetterAsync("flaky");   // fails the first time only
        var messageId = (await scenario.Server.MillraceAdmin.DeadLetterAsync(Scenario.Queue, flaky))!.MessageId!;
        using var chromium = await Chromium.StartAsync();
        chromium.SignIn(scenario.Server.Address, ServerHost.OperatorKey);

        chromium.Web.Navigate().GoToUrl(new Uri(scenario.Server.Address, "/#/dlq/orders"));
        var row = chromium.Wait($"tr[data-message-id='{messageId}']");
        Assert.Equal("3", chromium.Wait("#dlq-total").Text);
        chromium.Screenshot("dashboard-dlq.png");

        row.FindElement(By.CssSelector("button.requeue")).Click();
        chromium.Until(d => d.FindElements(By.CssSelector($"tr[data-message-id='{messageId}']")).Count == 0, "the requeued row to leave the table");

        chromium.Web.Navigate().GoToUrl(new Uri(scenario.Server.Address, $"/#/task/{messageId}"));
        chromium.Until(d => d.FindElements(By.CssSelector("#task-status [data-status='succeeded']")).Count == 1, $"task {messageId} to show as succeeded", TimeSpan.FromSeconds(30));
        Assert.Contains("fails the first time", chromium.Wait("#view").Text, StringComparison.Ordinal);   // the first attempt's error is listed
        Assert.Equal(1, scenario.Handled[messageId]);

        var audit = await scenario.Server.Viewer.GetJsonAsync("/api/v1/audit");
        Assert.Contains(audit["items"]!.AsArray(), e => (string?)e!["who"] == "operator" && ((string?)e["path"])!.EndsWith("/requeue", StringComparison.Ordinal) && (int)e["status"]! == 200);
    }

    [Fact]
    public async Task Given_an_admin_on_a_queue_page_When_terminate_is_submitted_without_the_typed_name_Then_it_is_refused_and_the_queue_stays()
    {
        await using var scenario = await Scenario.StartAsync(OneSecondSamples);
        using var chromium = await Chromium.StartAsync();
        chromium.SignIn(scenario.Server.Address, ServerHost.AdminKey);
        chromium.Web.Navigate().GoToUrl(new Uri(scenario.Server.Address, "/#/queue/orders"));

        chromium.Wait("#terminate-btn").Click();
        chromium.Wait("#terminate-confirm").SendKeys("order");
        chromium.Wait("#terminate-submit").Click();
        var error = chromium.Wait("#terminate-error");
        Assert.Contains("To confirm, send the queue's name", error.Text, StringComparison.Ordinal);
        Assert.True(await scenario.Server.MillraceAdmin.QueueExistsAsync(Scenario.Queue));

        // Empty confirmation: refused too.
        chromium.Wait("#terminate-confirm").Clear();
        chromium.Wait("#terminate-submit").Click();
        chromium.Until(_ => chromium.Wait("#terminate-error").Text.Contains("Nothing was deleted", StringComparison.Ordinal), "the refusal for an empty confirmation");
        Assert.True(await scenario.Server.MillraceAdmin.QueueExistsAsync(Scenario.Queue));

        // The typed name: terminated.
        chromium.Wait("#terminate-confirm").SendKeys("orders");
        chromium.Wait("#terminate-submit").Click();
        await Eventually.GetAsync(() => scenario.Server.MillraceAdmin.QueueExistsAsync(Scenario.Queue), exists => !exists, TimeSpan.FromSeconds(10), "the queue to be terminated");
    }

    [Fact]
    public async Task Given_a_wrong_key_When_signing_in_Then_the_page_says_so_and_shows_no_data()
    {
        await using var server = await ServerHost.StartAsync();
        using var chromium = await Chromium.StartAsync();
        chromium.Web.Navigate().GoToUrl(server.Address);
        chromium.Wait("#signin-key").SendKeys("not-a-key-0000000000000");
        chromium.Web.FindElement(By.CssSelector("#signin-submit")).Click();
        Assert.Contains("not valid", chromium.Wait("#signin-error").Text, StringComparison.Ordinal);
        Assert.False(chromium.Web.FindElement(By.CssSelector("#app")).Displayed);
    }

    [Fact]
    public async Task Given_a_viewer_When_the_queue_and_dlq_pages_open_Then_data_shows_and_no_control_is_offered()
    {
        await using var scenario = await Scenario.StartAsync(OneSecondSamples);
        await scenario.DeadLetterAsync();
        using var chromium = await Chromium.StartAsync();
        chromium.SignIn(scenario.Server.Address, ServerHost.ViewerKey);
        chromium.Web.Navigate().GoToUrl(new Uri(scenario.Server.Address, "/#/queue/orders"));
        chromium.Wait("table.group[data-group='workers']");
        Assert.False(chromium.Web.FindElement(By.CssSelector("#pause-btn")).Displayed);
        Assert.False(chromium.Web.FindElement(By.CssSelector("#terminate-btn")).Displayed);
        chromium.Web.Navigate().GoToUrl(new Uri(scenario.Server.Address, "/#/dlq/orders"));
        var row = chromium.Wait("tr[data-dlq-id]");
        Assert.False(row.FindElement(By.CssSelector("button.requeue")).Displayed);
    }

    [Fact]
    public async Task Given_an_admin_When_the_tasks_workers_limits_and_audit_pages_are_used_Then_they_show_the_servers_data()
    {
        await using var scenario = await Scenario.StartAsync(OneSecondSamples);
        var ok = await scenario.PublishAsync("ok");
        await Eventually.GetAsync(() => Task.FromResult(scenario.Handled.GetValueOrDefault(ok)), n => n == 1, TimeSpan.FromSeconds(15), "handled");
        using var chromium = await Chromium.StartAsync();
        chromium.SignIn(scenario.Server.Address, ServerHost.AdminKey);

        // Tasks: filter by status, then search by id.
        chromium.Web.Navigate().GoToUrl(new Uri(scenario.Server.Address, "/#/tasks"));
        chromium.Wait("#f-status").FindElements(By.TagName("option")).First(o => o.Text == "succeeded").Click();
        chromium.Web.FindElement(By.CssSelector("#task-filter button[type=submit]")).Click();
        chromium.Wait($"tr[data-task='{ok}']");
        chromium.Wait("#f-id").SendKeys(ok);
        chromium.Web.FindElement(By.CssSelector("#f-go")).Click();
        chromium.Wait("#task-status [data-status='succeeded']");

        // Publish from the page, as the operator's form does.
        chromium.Web.Navigate().GoToUrl(new Uri(scenario.Server.Address, "/#/tasks"));
        chromium.Wait("#p-queue").SendKeys("orders");
        chromium.Wait("#p-type").SendKeys("ok");
        chromium.Wait("#p-payload").SendKeys("{\"from\":\"dashboard\"}");
        chromium.Web.FindElement(By.CssSelector("#publish-form button[type=submit]")).Click();
        await Eventually.GetAsync(() => Task.FromResult(scenario.Handled.Count), n => n == 2, TimeSpan.FromSeconds(15), "the task published from the page handled");

        chromium.Web.Navigate().GoToUrl(new Uri(scenario.Server.Address, "/#/workers"));
        chromium.Until(d => d.FindElement(By.CssSelector("#worker-table")).Text.Contains("orders", StringComparison.Ordinal), "this process's worker with its queue");

        // Limits: set a concurrency limit from the page.
        chromium.Web.Navigate().GoToUrl(new Uri(scenario.Server.Address, "/#/limits"));
        chromium.Wait("#c-type").SendKeys("ok");
        chromium.Wait("#c-max").SendKeys("4");
        chromium.Web.FindElement(By.CssSelector("#conc-form button[type=submit]")).Click();
        await Eventually.GetAsync(() => scenario.Server.MillraceAdmin.ConcurrencyLimitsAsync(), l => l.GetValueOrDefault("ok") == 4, TimeSpan.FromSeconds(10), "the limit set from the page");

        chromium.Web.Navigate().GoToUrl(new Uri(scenario.Server.Address, "/#/audit"));
        chromium.Until(d => d.FindElement(By.CssSelector("#audit-table")).Text.Contains("POST /api/v1/concurrency", StringComparison.Ordinal), "the limit change in the audit log");
    }

    private static int Samples(IWebElement chart) => int.Parse(chart.GetAttribute("data-samples") ?? "0", CultureInfo.InvariantCulture);

    private static double PublishedSum(IWebElement chart) => double.Parse(chart.GetAttribute("data-published-sum") ?? "0", CultureInfo.InvariantCulture);
}

[CollectionDefinition("browser", DisableParallelization = true)]
public sealed class BrowserCollection;
