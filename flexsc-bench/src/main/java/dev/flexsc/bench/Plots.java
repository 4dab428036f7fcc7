package dev.flexsc.bench;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** PNG plots for docs/benchmarks.md, drawn with XChart. */
public final class Plots {
    private Plots() {}

    static {
        System.setProperty("java.awt.headless", "true");
    }

    /** One line per series: x = concurrency (log scale), y = calls per second. */
    public static void throughput(Path png, String title, Map<String, double[][]> series) throws IOException {
        lines(png, title, "concurrent callers", "calls per second", series);
    }

    /** One line per series over a logarithmic x axis. */
    public static void lines(Path png, String title, String xTitle, String yTitle, Map<String, double[][]> series)
            throws IOException {
        XYChart c = new XYChartBuilder().width(900).height(600).title(title).xAxisTitle(xTitle)
                .yAxisTitle(yTitle).build();
        c.getStyler().setXAxisLogarithmic(true);
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        c.getStyler().setLegendLayout(Styler.LegendLayout.Vertical);
        c.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        series.forEach((name, xy) -> c.addSeries(name, xy[0], xy[1]));
        BitmapEncoder.saveBitmap(c, png.toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    /** Bars: one per label. */
    public static void bars(Path png, String title, String yTitle, List<String> labels, List<Double> values)
            throws IOException {
        CategoryChart c = new CategoryChartBuilder().width(900).height(520).title(title).yAxisTitle(yTitle).build();
        c.getStyler().setLegendVisible(false);
        c.getStyler().setXAxisLabelRotation(20);
        c.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        c.addSeries(yTitle, labels, values);
        BitmapEncoder.saveBitmap(c, png.toString(), BitmapEncoder.BitmapFormat.PNG);
    }
}
