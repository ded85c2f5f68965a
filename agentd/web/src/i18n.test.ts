import { describe, expect, it } from 'vitest';
import { dictionaries, t } from './i18n';

describe('i18n', () => {
  it('has every key in both languages, non-empty, with the same placeholders', () => {
    const pl = dictionaries.pl as Record<string, string>;
    const en = dictionaries.en as Record<string, string>;
    expect(Object.keys(en).sort()).toEqual(Object.keys(pl).sort());
    for (const k of Object.keys(pl)) {
      expect(pl[k], k).not.toBe('');
      const ph = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort();
      expect(ph(en[k]), k).toEqual(ph(pl[k]));
    }
  });

  it('fills placeholders and falls back for unknown reasons', () => {
    expect(t('pl', 'announceOffer', { ticket: '2026/03/000123', caller: '+48600100200', queue: 'waste' })).toBe(
      'Połączenie przychodzące: zgłoszenie 2026/03/000123, dzwoni +48600100200, kolejka waste.',
    );
    expect(t('en', 'reason_coffee')).toBe('coffee');
    expect(t('en', 'reason_coffee', {}, 'coffee break')).toBe('coffee break');
  });
});
