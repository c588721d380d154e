/** A grouped bar chart as SVG: one group per workload, one bar per server, values in req/s. */
export function barChartSvg(
  title: string,
  groups: string[],
  series: string[],
  value: (group: string, serie: string) => number | undefined,
  colorOf: (serie: string) => string,
): string {
  const barWidth = 14;
  const gap = 30;
  const groupWidth = series.length * barWidth + gap;
  const chartHeight = 260;
  const left = 70;
  const top = 40;
  const width = left + groups.length * groupWidth + 240;
  const height = top + chartHeight + 60;
  const highest = Math.max(1, ...groups.flatMap((group) => series.map((serie) => value(group, serie) ?? 0)));
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="20" font-size="14">${title}</text>`,
    `<line x1="${left}" y1="${top + chartHeight}" x2="${left + groups.length * groupWidth}" y2="${top + chartHeight}" stroke="black"/>`,
  ];
  for (let tick = 0; tick <= 4; tick += 1) {
    const y = top + chartHeight - (tick / 4) * chartHeight;
    parts.push(
      `<text x="${left - 8}" y="${y + 4}" text-anchor="end">${Math.round((highest * tick) / 4)}</text>`,
    );
    parts.push(
      `<line x1="${left}" y1="${y}" x2="${left + groups.length * groupWidth}" y2="${y}" stroke="#eee"/>`,
    );
  }
  groups.forEach((group, groupIndex) => {
    const groupLeft = left + groupIndex * groupWidth + gap / 2;
    series.forEach((serie, serieIndex) => {
      const measured = value(group, serie);
      if (measured === undefined) return;
      const barHeight = (measured / highest) * chartHeight;
      const x = groupLeft + serieIndex * barWidth;
      parts.push(
        `<rect x="${x}" y="${top + chartHeight - barHeight}" width="${barWidth - 2}" height="${barHeight}" fill="${colorOf(serie)}"><title>${serie}: ${Math.round(measured)} req/s</title></rect>`,
      );
    });
    parts.push(
      `<text x="${groupLeft + (series.length * barWidth) / 2}" y="${top + chartHeight + 16}" text-anchor="middle">${group}</text>`,
    );
  });
  series.forEach((serie, serieIndex) => {
    const y = top + serieIndex * 18;
    const x = left + groups.length * groupWidth + 20;
    parts.push(`<rect x="${x}" y="${y}" width="12" height="12" fill="${colorOf(serie)}"/>`);
    parts.push(`<text x="${x + 18}" y="${y + 10}">${serie}</text>`);
  });
  parts.push(
    `<text x="${left}" y="${height - 10}" fill="#555">requests per second, median of the rounds (higher is better)</text>`,
  );
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
