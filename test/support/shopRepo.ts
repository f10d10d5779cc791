/**
 * A small shop whose tests are named after their sources (tests/test_invoice.py tests
 * src/shop/invoice.py), with a report test that talks about invoices and tax far more than the
 * invoice test does: "and where is this tested?" after an invoice question must not stop there.
 */
export const SHOP_REPO: Record<string, string> = {
  'src/shop/invoice.py': [
    'def total_with_tax(lines, rate):',
    '    """Sum the invoice lines and add the sales tax at the given rate."""',
    '    subtotal = sum(lines)',
    '    return round(subtotal * (1 + rate), 2)',
    '',
  ].join('\n'),
  'src/shop/shipping.py': [
    'def shipping_cost(weight, zone):',
    '    """Price of shipping a parcel, by its weight and the destination zone."""',
    '    base = {"home": 4, "abroad": 12}[zone]',
    '    return base + weight * 0.5',
    '',
  ].join('\n'),
  'src/shop/reports.py': 'def monthly_report(invoices):\n    """A table of the month\'s invoices."""\n    return [(i.number, i.total) for i in invoices]\n',
  'tests/test_invoice.py': ['from shop import invoice', '', 'def test_rounding():', '    assert invoice.total_with_tax([0.1, 0.2], 0) == 0.3', ''].join('\n'),
  'tests/test_shipping.py': ['from shop import shipping', '', 'def test_zones():', '    assert shipping.shipping_cost(2, "abroad") == 13', ''].join('\n'),
  'src/shop/cli.py': 'def run_command(name, args):\n    """Run a command line command by name."""\n    return COMMANDS[name](*args)\n',
  'tests/test_cli.py': [
    'from shop.cli import run_command',
    '',
    'def test_run_command_test_mode():',
    '    """Where is this tested? Here: the test command runs the tests, which cover it; that is tested."""',
    '    assert run_command("test", ["--tested"]) == "tested"',
    '',
    'def test_run_command_tests_twice():',
    '    """Which tests cover it? These tests: tested twice, the tests for this and that exercise it."""',
    '    assert run_command("test", []) == "tested"',
    '',
  ].join('\n'),
  'tests/test_reports.py': [
    'from shop.reports import monthly_report',
    '',
    'def test_report_lists_invoice_totals_with_tax():',
    '    """Where the invoice totals are tested in the report: this invoice, that invoice."""',
    '    invoices = [Invoice(1, total=120), Invoice(2, total=60)]  # each invoice total is tested',
    '    assert monthly_report(invoices) == [(1, 120), (2, 60)]  # the invoice totals, tested',
    '',
    'def test_report_of_parcels_shipped():',
    '    """Shipping a parcel by weight and zone is tested in the report too: this parcel, that zone."""',
    '    assert monthly_report([]) == []  # parcel weight, destination zone, shipping price tested',
    '',
  ].join('\n'),
};

/** Conversations about SHOP_REPO (JSON lines), with two lines that are not conversations. */
export const SHOP_CONVERSATIONS = [
  JSON.stringify({ id: 'tax', split: 'tune', turns: [{ question: 'How is the sales tax added to the invoice total?', gold: ['src/shop/invoice.py'] }, { question: 'and where is this tested?', gold: ['tests/test_invoice.py'] }] }),
  'this line is not JSON',
  JSON.stringify({ id: 'parcel', split: 'report', turns: [{ question: 'What does shipping a parcel cost by weight and zone?', gold: [{ path: 'src/shop/shipping.py', line_ranges: [[1, 4]] }] }, { question: 'which tests cover it?', gold: ['tests/test_shipping.py'] }] }),
  JSON.stringify({ id: 'no-gold', turns: [{ question: 'What is this?' }] }),
].join('\n');
