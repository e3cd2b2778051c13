// Hidden: ES module import of a default and a named export with the extension,
// a helper module beside the tests, test.each, it, three levels of describe.
import shout, { slugify } from './strings.js';
import { SLUGS } from './cases';

describe('strings', () => {
  describe('slugify', () => {
    test.each(SLUGS)('slugify(%j) is %j', (text, slug) => {
      expect(slugify(text)).toBe(slug);
    });

    describe('edges', () => {
      it('gives an empty slug for punctuation only', () => {
        expect(slugify('!?!')).toBe('');
      });
    });
  });

  it('shouts', () => {
    expect(shout('hey')).toBe('HEY!');
  });
});
